# lit configuration: runs every .mlir / .test file under tests/lit with
# tilefuse-opt, the tilefuse CLI and LLVM 19's FileCheck on PATH.
import os
import lit.formats

config.name = "tilefuse"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.tilefuse_tools_dir), "tests", "lit")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in"]
path = os.pathsep.join([config.tilefuse_tools_dir, config.tilefuse_cli_dir,
                        config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path

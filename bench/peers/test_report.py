"""CPU test of the pure-Python parts of bench/peers (run by ctest `peers_report`):
the shape list matches the C++ benchmark's, report.py merges runs, computes
speed ratios and target verdicts from known synthetic records, refuses to mix
GPUs, and every peers module at least compiles (PyTorch and Triton exist only
on the GPU machine)."""
import contextlib
import io
import json
import os
import py_compile
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import fp8_report  # noqa: E402
import report  # noqa: E402
import workload  # noqa: E402


def rec(impl, activation, m, n, k, ms, correct=True, dtype="bf16"):
    return workload.record(impl, activation, m, n, k, dtype, ms, correct, 1e-3)


class WorkloadTest(unittest.TestCase):
    def test_shapes_match_the_cpp_benchmark(self):
        shapes = workload.shapes()
        self.assertEqual(len(shapes), 5 * 4 + 2)
        self.assertIn((16, 14336, 4096), shapes)      # decode, M = 16
        self.assertIn((16384, 4096, 14336), shapes)   # down projection, K = 14336
        self.assertEqual(shapes[-2:], [(4096, 4096, 4096), (8192, 8192, 8192)])
        self.assertEqual(workload.shapes(quick=True), [(128, 14336, 4096), (4096, 14336, 4096), (4096, 4096, 4096)])

    def test_gated_flops_count_both_gemms(self):
        self.assertEqual(workload.flops("swiglu", 2, 3, 4), 2 * 2.0 * 2 * 3 * 4)
        self.assertAlmostEqual(workload.tflops("relu", 1000, 1000, 1000, 1.0), 2.0)


class ReportTest(unittest.TestCase):
    def write(self, directory, name, device, records, **extra):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            json.dump({"device": device, "command": name, "records": records, **extra}, f)
        return path

    def test_ratios_and_targets(self):
        big = (4096, 14336, 4096)
        with tempfile.TemporaryDirectory() as d:
            cpp = self.write(d, "results.json", "GPU X", [
                rec("cublas", "none", *big, 0.9), rec("cublas", "none", 4096, 2 * 14336, 4096, 1.8),
                rec("tilefuse", "gelu", *big, 1.0), rec("cublas+act", "gelu", *big, 1.2),
                rec("tilefuse", "swiglu", *big, 2.0), rec("cublas+act", "swiglu", *big, 2.6),
                rec("tilefuse", "relu", 16, 14336, 4096, 0.1),  # small M: not in the targets
                rec("triton", "relu", 16, 14336, 4096, 0.5)],
                launch_overhead=[{"impl": "tilefuse", "api": "span", "activation": "gelu", "M": 16, "N": 4096,
                                  "K": 4096, "us_per_call": 2.5}])
            py = self.write(d, "peers.json", "GPU X", [
                rec("triton", "gelu", *big, 1.1), rec("torch_eager", "swiglu", *big, 2.4),
                rec("torch_compile", "gelu", *big, 0.5, correct=False)])
            merged = report.load([cpp, py])
            by_key = report.index(merged["records"])
            gelu = ("gelu",) + big + ("bf16",)
            self.assertAlmostEqual(report.speed_ratio(by_key, "cublas+act", gelu), 1.2)
            self.assertIsNone(report.speed_ratio(by_key, "torch_compile", gelu))  # a wrong output never counts
            self.assertAlmostEqual(report.unfused_ratio(by_key, ("swiglu",) + big + ("bf16",)), 1.2)  # min(1.3, 1.2)
            text = report.table(merged)
            self.assertIn("| tilefuse vs cublas+act | ≥ 1.10× | 1.25× (met) | 1.20× | 2 |", text)
            self.assertIn("| tilefuse vs triton | ≥ 1.15× | 1.10× (missed) | 1.10× | 1 |", text)
            self.assertIn("| gated tilefuse vs the faster unfused path | ≥ 1.25× | 1.20× (missed) | 1.20× | 1 |", text)
            self.assertIn("| tilefuse vs torch_compile | ≥ 1.05× | – | – | 0 |", text)
            self.assertIn("≤ 3.0 | – | 2.50 (best API form) | 1 |", text)
            self.assertIn(" ✗", text)
            # The swiglu row's cuBLAS column is the 2N-wide GEMM (same FLOPs): 2·4096·28672·4096 / 1.8 ms.
            swiglu_row = next(line for line in text.splitlines() if line.startswith("| swiglu | 4096 |"))
            self.assertIn(f"| {workload.tflops('relu', 4096, 2 * 14336, 4096, 1.8):.0f} |", swiglu_row)

    def test_refuses_to_mix_gpus(self):
        with tempfile.TemporaryDirectory() as d:
            a = self.write(d, "a.json", "GPU X", [])
            b = self.write(d, "b.json", "GPU Y", [])
            with self.assertRaises(SystemExit) as e:
                report.load([a, b])
            self.assertIn("same GPU", str(e.exception))

    def test_command_line_writes_json_table_and_reports_missing_plots(self):
        with tempfile.TemporaryDirectory() as d:
            src = self.write(d, "results.json", "GPU X", [rec("tilefuse", "gelu", 4096, 4096, 4096, 1.0)])
            out = os.path.join(d, "out")
            proc = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), src, "--out", out],
                                  capture_output=True, text=True)
            self.assertTrue(os.path.exists(os.path.join(out, "table.md")))
            with open(os.path.join(out, "results.json")) as f:
                self.assertEqual(len(json.load(f)["records"]), 1)
            try:
                import matplotlib  # noqa: F401
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertTrue(os.path.exists(os.path.join(out, "ratios.png")))
            except ImportError:
                self.assertEqual(proc.returncode, 2)
                self.assertIn("matplotlib is not installed", proc.stderr)


def fp8(impl, activation, m, n, k, ms, scaling="tensor", out_dtype="bf16", correct=True, **extra):
    return workload.record(impl, activation, m, n, k, "e4m3", ms, correct, 1e-3, scaling=scaling,
                           out_dtype=out_dtype, **extra)


class Fp8ReportTest(unittest.TestCase):
    """The FP8 section: ratios per (scaling, output type), the two issue-16 targets, the per-tensor
    fallback of the ceiling, rows that were not run, and no mixing with the bf16 table."""

    big = (4096, 14336, 4096)

    def merged(self, records, not_run=()):
        return {"device": "GPU X", "sources": [], "records": list(records), "launch_overhead": [], "jit": [],
                "errors": [], "not_run": list(not_run)}

    def test_ratios_and_targets_per_scaling(self):
        big = self.big
        records = [
            fp8("cublaslt_fp8", "none", *big, 1.0), fp8("tilefuse", "gelu", *big, 1.0 / 0.97),
            fp8("torch_scaled_mm+act", "gelu", *big, 1.3 / 0.97), fp8("cublaslt_fp8+act", "gelu", *big, 1.2),
            fp8("torch_scaled_mm", "none", *big, 0.5),  # a plain GEMM: shown in the activation's row
            # row-wise: cuBLASLt ran it; tilefuse at 0.90x of it and 1.1x torch (both targets missed)
            fp8("cublaslt_fp8", "none", *big, 2.0, scaling="row"), fp8("tilefuse", "gelu", *big, 2.0 / 0.9, scaling="row"),
            fp8("torch_scaled_mm+act", "gelu", *big, 1.1 * 2.0 / 0.9, scaling="row"),
            # block128: no cuBLASLt record at that scaling: the ceiling falls back to per-tensor (†)
            fp8("tilefuse", "gelu", *big, 1.25, scaling="block128", arch="sm_90"),
            # a wrong torch output never counts
            fp8("torch_scaled_mm+act", "gelu", *big, 5.0, scaling="block128", correct=False),
            # a small M: shown, not in the targets
            fp8("cublaslt_fp8", "none", 128, 14336, 4096, 0.1), fp8("tilefuse", "gelu", 128, 14336, 4096, 0.2),
        ]
        not_run = [{"impl": "cublaslt_fp8", "activation": "none", "M": 4096, "N": 14336, "K": 4096,
                    "dtype": "e4m3", "scaling": "block128", "out_dtype": "bf16",
                    "reason": "cuBLASLt has no algorithm for 4096x14336x4096 e4m3, block128 scaling"}]
        merged = self.merged(records, not_run)
        by_key = fp8_report.index(merged["records"])
        tensor = ("gelu", "tensor", "bf16") + big
        self.assertAlmostEqual(fp8_report.ceiling_ratio(by_key, tensor), 0.97)
        self.assertAlmostEqual(fp8_report.speed_ratio(by_key, "torch_scaled_mm+act", tensor), 1.3)
        block = ("gelu", "block128", "bf16") + big
        top, top_scaling = fp8_report.ceiling(by_key, block)
        self.assertEqual(top_scaling, "tensor")
        self.assertAlmostEqual(fp8_report.ceiling_ratio(by_key, block), 0.8)
        self.assertIsNone(fp8_report.speed_ratio(by_key, "torch_scaled_mm+act", block))
        text = report.table(merged)
        self.assertIn("## FP8 (e4m3 inputs, FP32 accumulation)", text)
        self.assertIn("| tilefuse / cuBLASLt plain FP8 TFLOP/s (tensor, bf16 out) | ≥ 0.95× | 0.97× (met) | 0.97× | 1 |",
                      text)
        self.assertIn("| tilefuse vs torch._scaled_mm + activation (tensor, bf16 out) | ≥ 1.20× | 1.30× (met) | "
                      "1.30× | 1 |", text)
        self.assertIn("| tilefuse / cuBLASLt plain FP8 TFLOP/s (row, bf16 out) | ≥ 0.95× | 0.90× (missed) |", text)
        self.assertIn("| tilefuse vs torch._scaled_mm + activation (row, bf16 out) | ≥ 1.20× | 1.10× (missed) |", text)
        self.assertIn("| tilefuse vs torch._scaled_mm + activation (block128, bf16 out) | ≥ 1.20× | – | – | 0 |", text)
        tensor_row = next(line for line in text.splitlines() if line.startswith("| gelu | tensor | bf16 | 4096 |"))
        self.assertIn(f"| {workload.tflops('relu', *big, 0.5):.0f} |", tensor_row)
        block_row = next(line for line in text.splitlines() if line.startswith("| gelu | block128 | bf16 | 4096 |"))
        self.assertIn(" †", block_row)         # the per-tensor ceiling is marked
        self.assertIn("(sm_90)", block_row)    # tilefuse on the mma.sync fallback is named
        self.assertIn("not run", text)
        self.assertIn("cuBLASLt has no algorithm", text)
        # The FP8 records stay out of the bf16 table and its targets.
        self.assertNotIn("| gelu | 4096 | 14336 | 4096 |", text)
        self.assertIn("| tilefuse vs cublas+act | ≥ 1.10× | – | – | 0 |", text)

    def test_fp8_output_rows_and_amax_line(self):
        big = self.big
        merged = self.merged([
            fp8("cublaslt_fp8", "none", *big, 0.9, out_dtype="e4m3"),
            fp8("tilefuse", "gelu_tanh", *big, 1.0, out_dtype="e4m3", amax_rel_error=2e-3),
            fp8("cublaslt_fp8_epilogue", "gelu_tanh", *big, 1.1, out_dtype="e4m3", amax_rel_error=0.0)])
        text = report.table(merged)
        self.assertIn("| tilefuse / cuBLASLt plain FP8 TFLOP/s (tensor, e4m3 out) | ≥ 0.95× | 0.90× (missed) |", text)
        self.assertIn("2 checked, largest relative difference 2.0e-03", text)
        row = next(line for line in text.splitlines() if line.startswith("| gelu_tanh | tensor | e4m3 |"))
        self.assertIn("| 1.10× |", row)  # vs cublaslt_fp8_epilogue

    def test_no_fp8_section_without_fp8_records(self):
        merged = self.merged([rec("tilefuse", "gelu", 4096, 4096, 4096, 1.0)])
        self.assertNotIn("FP8", report.table(merged))

    def test_fp8_only_run_writes_the_table_without_plots(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.json")
            with open(path, "w") as f:
                json.dump({"device": "GPU X", "command": "fp8", "records": [
                    fp8("cublaslt_fp8", "none", *self.big, 1.0), fp8("tilefuse", "gelu", *self.big, 1.0)],
                    "not_run": []}, f)
            out = os.path.join(d, "out")
            proc = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), path, "--out", out],
                                  capture_output=True, text=True)
            with open(os.path.join(out, "table.md")) as f:
                self.assertIn("tilefuse / cuBLASLt plain FP8 TFLOP/s (tensor, bf16 out) | ≥ 0.95× | 1.00× (met)",
                              f.read())
            self.assertIn(proc.returncode, (0, 2), proc.stderr)  # 2: no matplotlib here, said so


class Fp8PeersArgsTest(unittest.TestCase):
    """fp8_peers.py's command line (no torch needed) and its lists against tilefuse_bench_fp8's."""

    def test_defaults_match_the_cpp_benchmark(self):
        import fp8_peers
        quick = fp8_peers.parse_args(["--quick"])
        self.assertEqual(quick.activations, ["gelu", "gelu_tanh"])
        self.assertEqual(quick.scalings, ["tensor", "row", "block128"])
        self.assertEqual(fp8_peers.parse_args([]).activations, ["gelu", "gelu_tanh", "silu"])
        with open(os.path.join(HERE, "..", "fp8", "fp8_bench.cpp")) as f:
            cpp = f.read()
        self.assertIn('{"gelu", "gelu_tanh", "silu"}', cpp)   # its default activations
        self.assertIn('sel.activations = {"gelu", "gelu_tanh"}', cpp)  # and --quick's
        self.assertIn('{"tensor", "row", "block128"}', cpp)

    def test_bad_names_are_refused(self):
        import fp8_peers
        for argv in (["--scalings", "tensor,rows"], ["--activations", "relu6"]):
            with self.subTest(argv=argv), contextlib.redirect_stderr(io.StringIO()) as err:
                with self.assertRaises(SystemExit) as e:
                    fp8_peers.parse_args(argv)
                self.assertEqual(e.exception.code, 2)
                self.assertIn("unknown", err.getvalue())


class SyntaxTest(unittest.TestCase):
    def test_every_peers_module_compiles(self):
        for name in sorted(os.listdir(HERE)):
            if name.endswith(".py"):
                with self.subTest(name=name), contextlib.redirect_stderr(io.StringIO()):
                    py_compile.compile(os.path.join(HERE, name), doraise=True,
                                       cfile=os.path.join(tempfile.gettempdir(), name + "c"))

    def test_peers_skips_without_torch(self):
        try:
            import torch  # noqa: F401
            self.skipTest("PyTorch is installed here: peers.py would run for real")
        except ImportError:
            pass
        for script in ("peers.py", "fp8_peers.py"):
            with self.subTest(script=script):
                proc = subprocess.run([sys.executable, os.path.join(HERE, script), "--quick"], capture_output=True,
                                      text=True)
                self.assertEqual(proc.returncode, 77, proc.stdout + proc.stderr)
                self.assertIn("SKIPPED", proc.stdout)


if __name__ == "__main__":
    unittest.main()

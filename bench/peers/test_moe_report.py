"""CPU test of the pure-Python parts of the grouped (MoE) benchmark (ctest
`peers_moe_report`): moe_report.py's layer times, ratios and target verdicts
from known synthetic records, its refusal to mix GPUs, moe_peers.py's case
loading and FLOP counts, the Triton peer's block table, and that every module
compiles (PyTorch and Triton exist only on the GPU machine)."""
import contextlib
import io
import json
import os
import py_compile
import sys
import tempfile
import unittest
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import moe_peers  # noqa: E402
import moe_report  # noqa: E402


def rec(impl, stage, ms, model="qwen3-30b-a3b", tokens=8192, routing="balanced", correct=True, tflops=None,
        experts=128, rows=65536):
    return {"impl": impl, "stage": stage, "ms": ms, "model": model, "tokens": tokens, "routing": routing,
            "correct": correct, "rel_error": 1e-3 if correct else 0.5, "tflops": tflops or 1.0 / ms, "M": rows,
            "N": 768, "K": 2048, "dtype": "bf16", "experts": experts, "activation": "swiglu"}


class MoeReportTest(unittest.TestCase):
    def merged(self, records, device="NVIDIA H100"):
        return {"device": device, "sources": [], "records": records, "errors": [], "cases": []}

    def test_layer_ratio_and_targets(self):
        records = [rec("tilefuse_grouped", "gate_up", 1.0, tflops=600), rec("tilefuse_grouped", "down", 0.5, tflops=500),
                   rec("torch_grouped_mm", "gate_up", 1.5), rec("torch_grouped_mm", "down", 0.6),
                   rec("tilefuse_per_expert", "gate_up", 3.0), rec("tilefuse_per_expert", "down", 3.0),
                   rec("cublas_dense", "gate_up", 0.9, tflops=650), rec("cublas_dense", "down", 0.4, tflops=600)]
        by_key = moe_report.index(records)
        key = ("qwen3-30b-a3b", 8192, "balanced")
        self.assertAlmostEqual(moe_report.layer_ms(by_key, "tilefuse_grouped", key), 1.5)
        self.assertAlmostEqual(moe_report.ratio(by_key, "torch_grouped_mm", key), 2.1 / 1.5)
        self.assertAlmostEqual(moe_report.ratio(by_key, "tilefuse_per_expert", key), 4.0)
        self.assertAlmostEqual(moe_report.dense_fraction(by_key, key, "gate_up"), 600 / 650)
        self.assertEqual(moe_report.rows_per_expert(by_key, key), 512)
        text = moe_report.table(self.merged(records))
        self.assertIn("| tilefuse_grouped vs torch_grouped_mm + silu·mul (layer time) | ≥ 1.3 | 1.40 | 1.40 | 1 | met |",
                      text)
        # 600/650 = 0.92 and 500/600 = 0.83: the minimum misses 0.9.
        self.assertIn("| 0.88 | 0.83 | 2 | NOT met |", text)

    def test_a_wrong_stage_is_no_time_and_below_512_rows_no_dense_target(self):
        records = [rec("tilefuse_grouped", "gate_up", 1.0), rec("tilefuse_grouped", "down", 0.5, correct=False),
                   rec("torch_grouped_mm", "gate_up", 1.5), rec("torch_grouped_mm", "down", 0.6),
                   rec("tilefuse_grouped", "gate_up", 1.0, tokens=128, rows=1024),
                   rec("cublas_dense", "gate_up", 0.1, tokens=128, rows=1024)]
        by_key = moe_report.index(records)
        self.assertIsNone(moe_report.layer_ms(by_key, "tilefuse_grouped", ("qwen3-30b-a3b", 8192, "balanced")))
        text = moe_report.table(self.merged(records))
        self.assertIn("| ✗ |", text)
        self.assertIn("0 | not measured |", text)  # neither target has a value
        self.assertIn("wrong result", text)

    def test_refuses_to_mix_gpus(self):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, device in enumerate(["NVIDIA H100", "NVIDIA H200"]):
                paths.append(os.path.join(d, f"{i}.json"))
                with open(paths[-1], "w") as f:
                    json.dump({"device": device, "records": []}, f)
            with self.assertRaises(SystemExit):
                moe_report.load(paths)

    def test_main_writes_results_and_table(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "cpp.json")
            with open(src, "w") as f:
                json.dump({"device": "NVIDIA H100", "command": "tilefuse_bench_moe --quick",
                           "records": [rec("tilefuse_grouped", "gate_up", 1.0)], "cases": [{"model": "m"}]}, f)
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(moe_report.main([src, "--out", os.path.join(d, "out")]), 0)
            with open(os.path.join(d, "out", "results.json")) as f:
                merged = json.load(f)
            self.assertEqual(len(merged["records"]), 1)
            self.assertEqual(merged["cases"], [{"model": "m"}])
            self.assertTrue(os.path.exists(os.path.join(d, "out", "table.md")))


class MoePeersTest(unittest.TestCase):
    CASE = {"model": "mixtral-8x7b", "experts": 2, "top_k": 2, "d_model": 4, "hidden": 3, "tokens": 3,
            "routing": "skewed", "rows": 6, "group_sizes": [5, 1]}

    def test_flops_and_record_match_the_cpp_benchmark(self):
        self.assertEqual(moe_peers.stage_flops(self.CASE, "gate_up"), 2.0 * 6 * 3 * 4 * 2)
        self.assertEqual(moe_peers.stage_flops(self.CASE, "down"), 2.0 * 6 * 4 * 3)
        r = moe_peers.make_record("triton_grouped", self.CASE, "down", 2.0, 0.02)
        self.assertEqual((r["M"], r["N"], r["K"], r["activation"], r["correct"]), (6, 4, 3, "x * route", False))

    def test_cases_that_do_not_add_up_are_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cases.json")
            with open(path, "w") as f:
                json.dump({"cases": [dict(self.CASE, group_sizes=[5, 2])]}, f)
            with self.assertRaises(SystemExit):
                moe_peers.load_cases(path)
            with open(path, "w") as f:
                json.dump([self.CASE], f)  # the --print-cases form
            self.assertEqual(moe_peers.load_cases(path)[0]["rows"], 6)

    def test_without_torch_it_skips(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cases.json")
            with open(path, "w") as f:
                json.dump([self.CASE], f)
            try:
                import torch  # noqa: F401
                self.skipTest("PyTorch is installed here: the skip path is not taken")
            except ImportError:
                pass
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(moe_peers.main(["--cases", path, "--out", d]), moe_peers.EXIT_SKIP)
            self.assertIn("SKIPPED", out.getvalue())


class TritonBlockTableTest(unittest.TestCase):
    def load_without_triton(self):
        """moe_triton's pure-Python helpers, with stand-ins for torch and triton."""
        fake_torch = types.SimpleNamespace(int32="int32", tensor=lambda v, dtype, device: list(v))
        fake_triton = types.ModuleType("triton")
        fake_triton.jit = lambda f: f
        fake_triton.autotune = lambda **kw: (lambda f: f)
        fake_triton.Config = lambda *a, **kw: (a, kw)
        fake_language = types.ModuleType("triton.language")
        fake_language.constexpr = int
        fake_triton.language = fake_language
        saved = {k: sys.modules.get(k) for k in ("torch", "triton", "triton.language")}
        sys.modules.update({"torch": fake_torch, "triton": fake_triton, "triton.language": fake_language})
        try:
            sys.modules.pop("moe_triton", None)
            import moe_triton
            return moe_triton
        finally:
            for k, v in saved.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v
            sys.modules.pop("moe_triton", None)

    def test_blocks_cover_every_group_and_skip_empty_ones(self):
        moe_triton = self.load_without_triton()
        experts, starts, ends = moe_triton.block_table([130, 0, 1, 64], 64, "cpu")
        self.assertEqual(experts, [0, 0, 0, 2, 3])
        self.assertEqual(starts, [0, 64, 128, 130, 131])
        self.assertEqual(ends, [130, 130, 130, 131, 195])
        self.assertEqual(moe_triton.block_m_for([8] * 128, 128), 64)
        self.assertEqual(moe_triton.block_m_for([512] * 8, 8), 128)


class CompileTest(unittest.TestCase):
    def test_every_module_compiles(self):
        with tempfile.TemporaryDirectory() as d:
            for name in ("moe_peers.py", "moe_report.py", "moe_triton.py"):
                py_compile.compile(os.path.join(HERE, name), cfile=os.path.join(d, name + "c"), doraise=True)


if __name__ == "__main__":
    unittest.main()

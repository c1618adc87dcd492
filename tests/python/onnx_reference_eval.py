#!/usr/bin/python3
"""Checks an ONNX file exported by mlpd and evaluates it independently of mlpd.

The file must pass onnx.checker (with shape inference), be IR version 8 / opset 13 with input
"x" [N, in] (symbolic N) and output "y" [N, out]; its nodes are then run one by one in float64
numpy (Gemm, Relu, Tanh, Sigmoid, Softmax, read from the graph, not assumed), and "y" must match
the expected outputs within the tolerance.

usage: onnx_reference_eval.py MODEL.onnx X.f32 EXPECTED.f32 [--ops Gemm,Relu,...] [--tol 1e-5]
       onnx_reference_eval.py --manifest FILE [--tol 1e-5]
X.f32 and EXPECTED.f32 are raw little-endian float32, row-major; their shapes follow from the
model's input and output widths. A manifest has one case per line, "NAME MODEL X EXPECTED OPS",
so many files are checked in one run (importing onnx costs about a second). Prints one line per
case, "NAME: ok ..." or "NAME: FAIL why"; exit status 0 when every case holds, 1 otherwise.
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


class CheckFailed(Exception):
    pass


def fail(message):
    raise CheckFailed(message)


def tensor_dims(value_info):
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in dims]


def softmax(values, axis):
    shifted = values - values.max(axis=axis, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=axis, keepdims=True)


def run_node(node, inputs):
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Gemm":
        a, b = inputs[0], inputs[1]
        if attributes.get("transA", 0):
            a = a.T
        if attributes.get("transB", 0):
            b = b.T
        result = attributes.get("alpha", 1.0) * (a @ b)
        if len(inputs) > 2:
            result = result + attributes.get("beta", 1.0) * inputs[2]
        return result
    if node.op_type == "Relu":
        return np.maximum(inputs[0], 0.0)
    if node.op_type == "Tanh":
        return np.tanh(inputs[0])
    if node.op_type == "Sigmoid":
        return 1.0 / (1.0 + np.exp(-inputs[0]))
    if node.op_type == "Softmax":
        return softmax(inputs[0], attributes.get("axis", -1))
    fail("unexpected operator %s in node %s" % (node.op_type, node.name))


def check(model_path, x_path, expected_path, expected_ops, tolerance):
    """Returns a one-line summary, or raises CheckFailed."""
    model = onnx.load(model_path)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as error:
        fail("the checker rejects the model: %s" % str(error).splitlines()[0])
    if model.ir_version != 8:
        fail("ir_version is %d, expected 8" % model.ir_version)
    opsets = [(o.domain, o.version) for o in model.opset_import]
    if opsets != [("", 13)]:
        fail("opset_import is %s, expected [('', 13)]" % opsets)
    graph = model.graph
    if [i.name for i in graph.input] != ["x"] or [o.name for o in graph.output] != ["y"]:
        fail("inputs %s / outputs %s, expected ['x'] / ['y']" %
             ([i.name for i in graph.input], [o.name for o in graph.output]))
    x_dims, y_dims = tensor_dims(graph.input[0]), tensor_dims(graph.output[0])
    if len(x_dims) != 2 or not isinstance(x_dims[0], str) or not x_dims[0]:
        fail("x has dims %s, expected [symbolic batch, in]" % x_dims)
    if len(y_dims) != 2 or y_dims[0] != x_dims[0]:
        fail("y has dims %s, expected [%s, out]" % (y_dims, x_dims[0]))
    ops = [node.op_type for node in graph.node]
    if expected_ops and ops != expected_ops.split(","):
        fail("operators are %s, expected %s" % (ops, expected_ops.split(",")))

    x = np.fromfile(x_path, dtype="<f4").reshape(-1, x_dims[1])
    expected = np.fromfile(expected_path, dtype="<f4").reshape(-1, y_dims[1])
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    values["x"] = x.astype(np.float64)
    for node in graph.node:
        values[node.output[0]] = run_node(node, [values[name] for name in node.input])
    y = values["y"]
    if y.shape != expected.shape:
        fail("y has shape %s, expected %s" % (y.shape, expected.shape))
    difference = float(np.max(np.abs(y - expected))) if y.size else 0.0
    if not difference <= tolerance:
        fail("max |y - expected| is %.3g, above %.3g" % (difference, tolerance))
    return "%d rows, ops %s, max |y - expected| = %.3g" % (x.shape[0], ",".join(ops), difference)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?")
    parser.add_argument("x", nargs="?")
    parser.add_argument("expected", nargs="?")
    parser.add_argument("--ops", default="", help="expected operator sequence, comma-separated")
    parser.add_argument("--manifest", help="file with one case per line")
    parser.add_argument("--tol", type=float, default=1e-5)
    args = parser.parse_args()

    if args.manifest:
        with open(args.manifest) as manifest:
            cases = [line.split() for line in manifest if line.strip()]
    elif args.model and args.x and args.expected:
        cases = [["model", args.model, args.x, args.expected, args.ops]]
    else:
        parser.error("give MODEL X EXPECTED or --manifest FILE")
    failures = 0
    for case in cases:
        name, model_path, x_path, expected_path = case[:4]
        expected_ops = case[4] if len(case) > 4 else ""
        try:
            print("%s: ok, %s" % (name, check(model_path, x_path, expected_path, expected_ops,
                                              args.tol)))
        except CheckFailed as error:
            failures += 1
            print("%s: FAIL %s" % (name, error))
    sys.stdout.flush()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

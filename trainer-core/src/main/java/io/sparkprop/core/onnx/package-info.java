/**
 * ONNX export: a network (spec and flat parameters) and the feature scaling it was trained behind,
 * written as one ONNX graph that takes raw features ({@link io.sparkprop.core.onnx.OnnxExport}).
 * The graph's protobuf is built with the ONNX schema classes that Tribuo ships
 * ({@code ai.onnx.proto.OnnxMl}); the README's "Export to ONNX" lists its nodes, names and opset.
 *
 * <p>Not here: reading model files or their metadata, file systems (the Spark job's
 * {@code session.ModelFiles} turns a model file into this package's inputs and writes the bytes),
 * and running graphs (ONNX Runtime is a test dependency only).
 */
package io.sparkprop.core.onnx;

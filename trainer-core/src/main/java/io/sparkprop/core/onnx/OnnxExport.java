package io.sparkprop.core.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import io.sparkprop.core.Activation;
import io.sparkprop.core.LayerSpec;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.WeightLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * A network as an ONNX model: the inference graph of {@code Network.forward} (no dropout), with the
 * feature scaling folded in front so that the graph takes raw features. It is an exporter only:
 * nothing here reads ONNX back or runs it.
 *
 * <p>The graph, for an input {@code features (batch, numIn)} of element type {@code T}
 * ({@code float} for {@link Precision#FLOAT32}, {@code double} for {@link Precision#FLOAT64}):
 * <ol>
 *   <li>scaling, when there is one: {@code Sub(features, scaling.shift)} then
 *       {@code Div(., scaling.scale)}, the reader's {@code (x - shift) / scale} in that order;</li>
 *   <li>per layer {@code k}: {@code Gemm(h, layerK.W, layerK.b, transB=1)}, i.e.
 *       {@code a (batch, numOut) = h (batch, numIn) · Wᵀ + b} with {@code W (numOut, numIn)} as
 *       the core stores it, then the activation ({@code Relu}, {@code LeakyRelu(alpha=0.01)} (in a double graph
 *       {@code Max(a, Mul(a, 0.01))}, the same function, as ONNX Runtime has no double LeakyRelu),
 *       {@code Tanh}, {@code Sigmoid}, {@code Softmax(axis=1)}; none for identity);</li>
 *   <li>the outputs, by the loss: softmax cross-entropy gives {@value #RAW_PREDICTION} (the logits)
 *       and {@value #PROBABILITY} {@code (batch, numOut)}, and {@value #PREDICTION}
 *       {@code (batch)} int64, the arg-max class (the first on ties, as sparkprop's); binary
 *       cross-entropy (multi-label) gives {@value #RAW_PREDICTION}, {@value #PROBABILITY} and
 *       {@value #PREDICTION} {@code (batch, numOut)} of {@code T}, 1 where the probability is at
 *       least 0.5 and 0 elsewhere; MSE (regression) gives {@value #PREDICTION}
 *       {@code (batch, numOut)}, the output activation's values.</li>
 * </ol>
 * With {@code FLOAT32} the weights, biases and scaling are rounded to float; with {@code FLOAT64}
 * they are the model's doubles and the graph computes what {@code Network.forward} computes, up to
 * the order of the sums in the matrix products.
 *
 * <p>Opset {@value #OPSET} of the default domain, IR version {@value #IR_VERSION}: every operator
 * used exists there in its current form (Softmax's per-axis meaning is from opset 13), and
 * runtimes from ONNX Runtime 1.7 (2021) on run it. The model is one protobuf message with its
 * tensors inline, so it is limited to protobuf's 2 GB.
 */
public final class OnnxExport {

    /** The opset of the default ONNX domain that the graph imports. */
    public static final int OPSET = 13;
    /** The ONNX IR version of the file (IR 7 is the one of opset 13, ONNX 1.8). */
    public static final int IR_VERSION = 7;
    /** The graph's input: raw features {@code (batch, numIn)}. */
    public static final String FEATURES = "features";
    /** A classifier's logits, the output layer's pre-activation: MLlib's {@code rawPrediction}. */
    public static final String RAW_PREDICTION = "rawPrediction";
    /** A classifier's softmax or sigmoid outputs. */
    public static final String PROBABILITY = "probability";
    /** The class, the labels, or the regression outputs. */
    public static final String PREDICTION = "prediction";

    /** Protobuf cannot hold a message of 2 GB or more; keep room for everything but the tensors. */
    private static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - (64L << 20);

    private OnnxExport() {
    }

    /**
     * The ONNX model of the network {@code spec} with {@code params (spec.paramCount())} in the core's
     * flat layout, behind {@code scaling}, computing in {@code type}; {@code description} (for
     * example the spec and the training config) goes into the model's doc string and
     * {@code metadata} into its metadata properties.
     *
     * @throws IllegalArgumentException if the parameter count or the scaling's feature count does not
     *                                  fit {@code spec}, or the tensors would not fit in 2 GB
     */
    public static byte[] toBytes(NetworkSpec spec, double[] params, InputScaling scaling, Precision type,
                                 String description, Map<String, String> metadata) {
        if (spec == null || params == null || scaling == null || type == null || metadata == null) {
            throw new IllegalArgumentException("ONNX export needs a spec, parameters, a scaling, an element type and"
                    + " metadata (possibly empty) but got a null");
        }
        if (params.length != spec.paramCount()) {
            throw new IllegalArgumentException("Network " + spec + " needs " + spec.paramCount()
                    + " parameters but got " + params.length);
        }
        if (spec.firstLayerLayout() != WeightLayout.OUT_IN) {
            throw new IllegalArgumentException("ONNX export reads the first layer's weights " + WeightLayout.OUT_IN
                    + " but got " + spec + "; lay them out with NetworkSpec.relayout first");
        }
        if (!scaling.isIdentity() && scaling.numFeatures() != spec.inputSize()) {
            throw new IllegalArgumentException("The network takes " + spec.inputSize()
                    + " features but the scaling has " + scaling.numFeatures());
        }
        int bytesPerValue = type == Precision.FLOAT32 ? Float.BYTES : Double.BYTES;
        long tensorBytes = ((long) params.length + 2L * spec.inputSize()) * bytesPerValue;
        if (tensorBytes > MAX_TENSOR_BYTES) {
            throw new IllegalArgumentException("The network's " + params.length + " parameters take " + tensorBytes
                    + " bytes as " + type + ", more than one ONNX protobuf can hold (2 GB)"
                    + (type == Precision.FLOAT64 ? "; export as float32" : ""));
        }
        return new Builder(type).model(spec, params, scaling, description, metadata).toByteArray();
    }

    /** One graph under construction: its nodes, initializers, inputs and outputs. */
    private static final class Builder {

        private final Precision type;
        private final int elemType;
        private final GraphProto.Builder graph = GraphProto.newBuilder();

        Builder(Precision type) {
            this.type = type;
            this.elemType = type == Precision.FLOAT32 ? TensorProto.DataType.FLOAT_VALUE
                    : TensorProto.DataType.DOUBLE_VALUE;
        }

        ModelProto model(NetworkSpec spec, double[] params, InputScaling scaling, String description,
                         Map<String, String> metadata) {
            graph.setName("sparkprop");
            graph.addInput(valueInfo(FEATURES, elemType, spec.inputSize()));
            String h = FEATURES;
            double[] shift = scaling.shift();
            double[] scale = scaling.scale();
            if (shift != null) {
                h = node("Sub", "scaling.centered", h, tensor("scaling.shift", shift, 0, shift.length));
            }
            if (scale != null) {
                h = node("Div", "scaling.scaled", h, tensor("scaling.scale", scale, 0, scale.length));
            }
            int last = spec.numLayers() - 1;
            Loss loss = spec.loss();
            for (int k = 0; k <= last; k++) {
                LayerSpec layer = spec.layer(k);
                String w = tensor("layer" + k + ".W", params, spec.weightOffset(k), layer.numOut(), layer.numIn());
                String b = tensor("layer" + k + ".b", params, spec.biasOffset(k), layer.numOut());
                boolean regressionOutput = k == last && loss == Loss.MSE;
                String a = k < last || regressionOutput && layer.activation() != Activation.IDENTITY
                        ? "layer" + k + ".a" : regressionOutput ? PREDICTION : RAW_PREDICTION;
                NodeProto.Builder gemm = NodeProto.newBuilder().setOpType("Gemm").setName(a + ".Gemm")
                        .addInput(h).addInput(w).addInput(b).addOutput(a)
                        .addAttribute(AttributeProto.newBuilder().setName("transB")
                                .setType(AttributeProto.AttributeType.INT).setI(1));
                graph.addNode(gemm);
                String out = k < last ? "layer" + k + ".h" : regressionOutput ? PREDICTION : PROBABILITY;
                h = activation(layer.activation(), a, out);
            }
            int numOut = spec.outputSize();
            switch (loss) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    graph.addNode(NodeProto.newBuilder().setOpType("ArgMax").setName(PREDICTION + ".ArgMax")
                            .addInput(PROBABILITY).addOutput(PREDICTION)
                            .addAttribute(intAttribute("axis", 1)).addAttribute(intAttribute("keepdims", 0)));
                    graph.addOutput(valueInfo(RAW_PREDICTION, elemType, numOut));
                    graph.addOutput(valueInfo(PROBABILITY, elemType, numOut));
                    graph.addOutput(valueInfo(PREDICTION, TensorProto.DataType.INT64_VALUE, -1));
                }
                case BINARY_CROSS_ENTROPY -> {
                    String half = scalar("threshold", 0.5);
                    String labels = node("GreaterOrEqual", "prediction.bool", PROBABILITY, half);
                    graph.addNode(NodeProto.newBuilder().setOpType("Cast").setName(PREDICTION + ".Cast")
                            .addInput(labels).addOutput(PREDICTION).addAttribute(intAttribute("to", elemType)));
                    graph.addOutput(valueInfo(RAW_PREDICTION, elemType, numOut));
                    graph.addOutput(valueInfo(PROBABILITY, elemType, numOut));
                    graph.addOutput(valueInfo(PREDICTION, elemType, numOut));
                }
                case MSE -> graph.addOutput(valueInfo(PREDICTION, elemType, numOut));
                default -> throw new AssertionError(loss);
            }
            ModelProto.Builder model = ModelProto.newBuilder()
                    .setIrVersion(IR_VERSION)
                    .setProducerName("sparkprop")
                    .setModelVersion(1)
                    .setDocString(description == null ? spec.toString() : description)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                    .setGraph(graph);
            metadata.forEach((key, value) -> model.addMetadataProps(
                    StringStringEntryProto.newBuilder().setKey(key).setValue(value)));
            return model.build();
        }

        /** The activation node from {@code a} to {@code out}; returns the name of its output. */
        private String activation(Activation activation, String a, String out) {
            String op = switch (activation) {
                case IDENTITY -> null;
                case SIGMOID -> "Sigmoid";
                case TANH -> "Tanh";
                case RELU -> "Relu";
                case LEAKY_RELU -> "LeakyRelu";
                case SOFTMAX -> "Softmax";
            };
            if (op == null) {
                return a;
            }
            if (activation == Activation.LEAKY_RELU && type == Precision.FLOAT64) {
                // ONNX Runtime has no double LeakyRelu kernel; max(a, 0.01 a) is the same function
                // (the slope is below 1), bit for bit the core's 0.01 * a on the negative side.
                String slope = scalar(out + ".slope", Activation.LEAKY_SLOPE);
                return node("Max", out, a, node("Mul", out + ".negative", a, slope));
            }
            NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(out + "." + op)
                    .addInput(a).addOutput(out);
            if (activation == Activation.LEAKY_RELU) {
                node.addAttribute(AttributeProto.newBuilder().setName("alpha")
                        .setType(AttributeProto.AttributeType.FLOAT).setF((float) Activation.LEAKY_SLOPE));
            } else if (activation == Activation.SOFTMAX) {
                node.addAttribute(intAttribute("axis", 1));
            }
            graph.addNode(node);
            return out;
        }

        /** A two-input node {@code op(x, y)} whose output is {@code out}; returns {@code out}. */
        private String node(String op, String out, String x, String y) {
            graph.addNode(NodeProto.newBuilder().setOpType(op).setName(out + "." + op)
                    .addInput(x).addInput(y).addOutput(out));
            return out;
        }

        /**
         * An initializer {@code name} of shape {@code dims} holding {@code values[offset..)} (as many
         * as the dims' product, row-major), little-endian raw data of this graph's element type.
         */
        private String tensor(String name, double[] values, int offset, int... dims) {
            long count = 1;
            TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(elemType);
            for (int d : dims) {
                tensor.addDims(d);
                count *= d;
            }
            ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact(count * (type == Precision.FLOAT32 ? 4 : 8)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                if (type == Precision.FLOAT32) {
                    raw.putFloat((float) values[offset + i]);
                } else {
                    raw.putDouble(values[offset + i]);
                }
            }
            raw.flip();
            graph.addInitializer(tensor.setRawData(ByteString.copyFrom(raw)));
            return name;
        }

        /** A scalar initializer of this graph's element type. */
        private String scalar(String name, double value) {
            return tensor(name, new double[] {value}, 0);
        }

        private static AttributeProto.Builder intAttribute(String name, long value) {
            return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value);
        }

        /** A tensor type {@code (batch, width)}, or {@code (batch)} when {@code width < 0}. */
        private static ValueInfoProto valueInfo(String name, int elemType, int width) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                    .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
            if (width >= 0) {
                shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width));
            }
            return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
        }
    }
}

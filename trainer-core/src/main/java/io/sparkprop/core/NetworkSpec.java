package io.sparkprop.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * An immutable, validated multilayer perceptron topology: layer sizes, the activation of each
 * layer and the loss at the output. It fixes the flat parameter layout shared by parameters,
 * gradients and optimizer state: layer {@code k}'s weights start at {@link #weightOffset(int)},
 * its biases at {@link #biasOffset(int)}, layers in order, nothing in between. The first layer's
 * weights are stored as {@link #firstLayerLayout()} says ({@link WeightLayout}: row-major
 * {@code W (numOut, numIn)} by default, or feature-major for sparse input); the others always
 * row-major {@code (numOut, numIn)}.
 *
 * <p>This is a description, not a runtime: {@link Network} computes with it.
 */
public final class NetworkSpec implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private final List<LayerSpec> layers;
    private final Loss loss;
    private final int[] offsets;
    private final int paramCount;
    /** Null in a spec serialized before the field existed: read as {@link WeightLayout#OUT_IN}. */
    private final WeightLayout firstLayerLayout;

    /**
     * @param layers the layers in order; each layer's {@code numIn} must equal the previous
     *               layer's {@code numOut}
     * @param loss   the loss; it must {@linkplain Loss#accepts accept} the last layer's activation
     */
    public NetworkSpec(List<LayerSpec> layers, Loss loss) {
        this(layers, loss, WeightLayout.OUT_IN);
    }

    /**
     * @param layers           as for {@link #NetworkSpec(List, Loss)}
     * @param loss             as for {@link #NetworkSpec(List, Loss)}
     * @param firstLayerLayout how the first layer's weights are stored
     */
    public NetworkSpec(List<LayerSpec> layers, Loss loss, WeightLayout firstLayerLayout) {
        if (firstLayerLayout == null) {
            throw new IllegalArgumentException("The first layer's weight layout must be given but got null");
        }
        this.firstLayerLayout = firstLayerLayout;
        if (layers == null || layers.isEmpty()) {
            throw new IllegalArgumentException("A network needs at least one layer but got "
                    + (layers == null ? "null" : "0"));
        }
        if (loss == null) {
            throw new IllegalArgumentException("A network needs a loss but got null");
        }
        for (int k = 0; k < layers.size(); k++) {
            LayerSpec layer = layers.get(k);
            if (layer == null) {
                throw new IllegalArgumentException("Layer " + k + " is null");
            }
            if (k > 0 && layer.numIn() != layers.get(k - 1).numOut()) {
                throw new IllegalArgumentException("Layer " + k + " expects " + layer.numIn()
                        + " inputs but layer " + (k - 1) + " has " + layers.get(k - 1).numOut() + " outputs");
            }
            if (k < layers.size() - 1 && layer.activation() == Activation.SOFTMAX) {
                throw new IllegalArgumentException("Softmax is only supported on the output layer, but layer "
                        + k + " of " + layers.size() + " uses it");
            }
        }
        Activation output = layers.get(layers.size() - 1).activation();
        if (!loss.accepts(output)) {
            throw new IllegalArgumentException("Loss " + loss + " expects a "
                    + (loss == Loss.SOFTMAX_CROSS_ENTROPY ? "SOFTMAX" : "SIGMOID")
                    + " output activation but got " + output);
        }
        this.layers = Collections.unmodifiableList(new ArrayList<>(layers));
        this.loss = loss;
        this.offsets = new int[layers.size() + 1];
        long total = 0;
        for (int k = 0; k < layers.size(); k++) {
            offsets[k] = (int) total;
            total += layers.get(k).paramCount();
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("Network has " + total
                        + "+ parameters, more than a Java array can hold");
            }
        }
        offsets[layers.size()] = (int) total;
        this.paramCount = (int) total;
    }

    /**
     * The usual way to write a topology: {@code sizes = [784, 256, 128, 10]} with one activation per
     * layer ({@code sizes.length - 1} of them).
     */
    public static NetworkSpec of(int[] sizes, List<Activation> activations, Loss loss) {
        if (sizes == null || sizes.length < 2) {
            throw new IllegalArgumentException("Layer sizes need an input and at least one layer size but got "
                    + Arrays.toString(sizes));
        }
        if (activations == null || activations.size() != sizes.length - 1) {
            throw new IllegalArgumentException("Expected " + (sizes.length - 1) + " activations for sizes "
                    + Arrays.toString(sizes) + " but got " + (activations == null ? "null" : activations.size()));
        }
        List<LayerSpec> layers = new ArrayList<>();
        for (int k = 0; k < activations.size(); k++) {
            layers.add(new LayerSpec(sizes[k], sizes[k + 1], activations.get(k)));
        }
        return new NetworkSpec(layers, loss);
    }

    /** A network with one activation for every hidden layer and another for the output layer. */
    public static NetworkSpec of(int[] sizes, Activation hidden, Activation output, Loss loss) {
        if (sizes == null || sizes.length < 2) {
            throw new IllegalArgumentException("Layer sizes need an input and at least one layer size but got "
                    + Arrays.toString(sizes));
        }
        List<Activation> activations = new ArrayList<>();
        for (int k = 0; k < sizes.length - 2; k++) {
            activations.add(hidden);
        }
        activations.add(output);
        return of(sizes, activations, loss);
    }

    /** How the first layer's weights are stored ({@link WeightLayout}). */
    public WeightLayout firstLayerLayout() {
        return firstLayerLayout == null ? WeightLayout.OUT_IN : firstLayerLayout;
    }

    /** This topology with the first layer's weights stored as {@code layout}; this spec if it already is. */
    public NetworkSpec withFirstLayerLayout(WeightLayout layout) {
        return layout == firstLayerLayout() ? this : new NetworkSpec(layers, loss, layout);
    }

    /**
     * {@code values (paramCount)}, laid out for this spec, in {@code target}'s layout: the first
     * layer's weight block transposed when the layouts differ, everything else copied. Exact (a
     * permutation). Returns {@code values} itself when the layouts agree, else a new array. Works
     * for parameters, gradients and optimizer state slots alike.
     *
     * @throws IllegalArgumentException when {@code target} is another topology or {@code values}
     *                                  has the wrong length
     */
    public double[] relayout(double[] values, NetworkSpec target) {
        checkRelayout(values, target);
        if (target.firstLayerLayout() == firstLayerLayout()) {
            return values;
        }
        double[] out = values.clone();
        int numIn = inputSize();
        int numOut = layers.get(0).numOut();
        int off = weightOffset(0);
        // OUT_IN: W[o][i] at o·numIn + i; IN_OUT: at i·numOut + o. A transpose in tiles of
        // TILE x TILE, so both the reads and the writes stay within a few cache lines per row.
        boolean toInOut = target.firstLayerLayout() == WeightLayout.IN_OUT;
        final int tile = 32;
        for (int o0 = 0; o0 < numOut; o0 += tile) {
            int o1 = Math.min(numOut, o0 + tile);
            for (int i0 = 0; i0 < numIn; i0 += tile) {
                int i1 = Math.min(numIn, i0 + tile);
                for (int o = o0; o < o1; o++) {
                    for (int i = i0; i < i1; i++) {
                        int outIn = off + o * numIn + i;
                        int inOut = off + i * numOut + o;
                        if (toInOut) {
                            out[inOut] = values[outIn];
                        } else {
                            out[outIn] = values[inOut];
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * {@link #relayout} without a second array: {@code values (paramCount)}, laid out for this spec,
     * OVERWRITTEN with the same values in {@code target}'s layout (unchanged when the layouts
     * agree). For a wide model's weights and optimizer slots, which the driver lays out at its start
     * and around each checkpoint. Fast when {@code numOut} divides {@code numIn} (or the reverse):
     * two passes over the block; any other shape follows the transposition's cycles value by value
     * ({@code Transpose}).
     *
     * @throws IllegalArgumentException when {@code target} is another topology or {@code values}
     *                                  has the wrong length
     */
    public void relayoutInPlace(double[] values, NetworkSpec target) {
        checkRelayout(values, target);
        if (target.firstLayerLayout() == firstLayerLayout()) {
            return;
        }
        int numIn = inputSize();
        int numOut = layers.get(0).numOut();
        // OUT_IN is W (numOut, numIn) row-major, IN_OUT its transpose (numIn, numOut).
        if (firstLayerLayout() == WeightLayout.OUT_IN) {
            Transpose.inPlace(values, weightOffset(0), numOut, numIn);
        } else {
            Transpose.inPlace(values, weightOffset(0), numIn, numOut);
        }
    }

    private void checkRelayout(double[] values, NetworkSpec target) {
        if (!sameTopology(target)) {
            throw new IllegalArgumentException("Cannot lay out " + this + "'s parameters for another topology, "
                    + target);
        }
        if (values.length != paramCount) {
            throw new IllegalArgumentException("Network " + this + " expects " + paramCount + " values but got "
                    + values.length);
        }
    }

    /**
     * This network with an input of {@code inputs} features instead of {@link #inputSize()}: the
     * first layer's weights {@code (numOut, inputs)} (or {@code (inputs, numOut)} IN_OUT), every
     * other layer, the loss and the layout unchanged. A lazy round computes on such a compact
     * copy of a wide first layer ({@link WorkingSet}).
     *
     * @throws IllegalArgumentException when {@code inputs < 1}
     */
    public NetworkSpec withInputSize(int inputs) {
        if (inputs == inputSize()) {
            return this;
        }
        List<LayerSpec> changed = new ArrayList<>(layers);
        LayerSpec first = layers.get(0);
        changed.set(0, new LayerSpec(inputs, first.numOut(), first.activation()));
        return new NetworkSpec(changed, loss, firstLayerLayout());
    }

    /** Whether {@code other} has the same layers and loss, whatever its first layer's layout. */
    public boolean sameTopology(NetworkSpec other) {
        return layers.equals(other.layers) && loss == other.loss;
    }

    public List<LayerSpec> layers() {
        return layers;
    }

    public LayerSpec layer(int k) {
        return layers.get(k);
    }

    public int numLayers() {
        return layers.size();
    }

    public Loss loss() {
        return loss;
    }

    /** Width of the input: the first layer's {@code numIn}. */
    public int inputSize() {
        return layers.get(0).numIn();
    }

    /** Width of the output: the last layer's {@code numOut}. */
    public int outputSize() {
        return layers.get(layers.size() - 1).numOut();
    }

    /** Total number of parameters, the length of the flat parameter array. */
    public int paramCount() {
        return paramCount;
    }

    /** Offset of layer {@code k}'s weight matrix in the flat parameter array. */
    public int weightOffset(int k) {
        return offsets[k];
    }

    /** Offset of layer {@code k}'s bias vector in the flat parameter array. */
    public int biasOffset(int k) {
        return offsets[k] + layers.get(k).weightCount();
    }

    /** Largest layer width, input included: the size of one row of a scratch buffer. */
    public int maxWidth() {
        int max = inputSize();
        for (LayerSpec layer : layers) {
            max = Math.max(max, layer.numOut());
        }
        return max;
    }

    /** The layer sizes, input first: {@code [numIn(0), numOut(0), numOut(1), ...]}. */
    public int[] sizes() {
        int[] sizes = new int[layers.size() + 1];
        sizes[0] = inputSize();
        for (int k = 0; k < layers.size(); k++) {
            sizes[k + 1] = layers.get(k).numOut();
        }
        return sizes;
    }

    /**
     * Which parameter ranges are weights (subject to L2 and decoupled weight decay) as
     * {@code [start0, end0, start1, end1, ...]}, half-open; biases are never regularized.
     */
    public int[] weightRanges() {
        int[] ranges = new int[2 * layers.size()];
        for (int k = 0; k < layers.size(); k++) {
            ranges[2 * k] = weightOffset(k);
            ranges[2 * k + 1] = biasOffset(k);
        }
        return ranges;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NetworkSpec other && sameTopology(other)
                && firstLayerLayout() == other.firstLayerLayout();
    }

    @Override
    public int hashCode() {
        return 31 * (31 * layers.hashCode() + loss.hashCode()) + firstLayerLayout().hashCode();
    }

    /**
     * For example {@code 784-256(RELU)-128(RELU)-10(SOFTMAX) SOFTMAX_CROSS_ENTROPY}, followed by
     * {@code  [first layer IN_OUT]} when its weights are stored feature-major.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(inputSize());
        for (LayerSpec layer : layers) {
            sb.append('-').append(layer.numOut()).append('(').append(layer.activation()).append(')');
        }
        sb.append(' ').append(loss);
        if (firstLayerLayout() != WeightLayout.OUT_IN) {
            sb.append(" [first layer ").append(firstLayerLayout()).append(']');
        }
        return sb.toString();
    }
}

package io.sparkprop.core.io;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.WeightLayout;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained model as it is stored in a file: the topology, the flat parameter array in
 * {@link NetworkSpec}'s layout, named extra arrays (for example the feature scaling
 * {@code "scaling.mean"} and {@code "scaling.std"}) and string metadata (for example the training
 * config and the creation time). {@link ModelCodec} writes and reads it.
 *
 * <p>It is immutable and holds no runtime state: it is not a network that computes, and it does not
 * know what the arrays or metadata mean. The constructor copies the parameter array and every named
 * array, and {@link #params()}, {@link #array(String)} and {@link #arrays()} return fresh copies, so
 * a large model costs one extra copy of its parameters per call; call {@code params()} once and keep
 * the result.
 *
 * <p>Names of arrays and metadata keys are non-empty and at most {@value #MAX_NAME_BYTES} bytes in
 * UTF-8; names, keys and values must be well-formed UTF-16 (no unpaired surrogates) so they read back
 * equal. Iteration order of both maps is the order of the maps given to the constructor, and is the
 * order in the file.
 */
public final class Model {

    /** The longest name of an array or key of a metadata entry, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 65535;

    private final NetworkSpec spec;
    private final double[] params;
    private final Map<String, double[]> arrays;
    private final Map<String, String> metadata;

    /**
     * @param params   {@code spec.paramCount()} parameters; copied
     * @param arrays   named extra arrays, possibly empty; the map and each array are copied
     * @param metadata string entries, possibly empty (values may be empty); copied
     * @throws IllegalArgumentException if anything is null, the parameter count is wrong, or a name
     *                                  or key is empty, too long or not well-formed
     */
    public Model(NetworkSpec spec, double[] params, Map<String, double[]> arrays, Map<String, String> metadata) {
        if (spec == null) {
            throw new IllegalArgumentException("Model needs a network spec but got null");
        }
        if (params == null) {
            throw new IllegalArgumentException("Model needs " + spec.paramCount() + " parameters but got null");
        }
        if (spec.firstLayerLayout() != WeightLayout.OUT_IN) {
            throw new IllegalArgumentException("A model holds its first layer's weights " + WeightLayout.OUT_IN
                    + " (the file format's layout) but got " + spec + "; lay them out with NetworkSpec.relayout first");
        }
        if (params.length != spec.paramCount()) {
            throw new IllegalArgumentException("Model of " + spec + " needs " + spec.paramCount()
                    + " parameters but got " + params.length);
        }
        if (arrays == null) {
            throw new IllegalArgumentException("Model arrays must be given (possibly empty) but got null");
        }
        if (metadata == null) {
            throw new IllegalArgumentException("Model metadata must be given (possibly empty) but got null");
        }
        Map<String, double[]> arraysCopy = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> entry : arrays.entrySet()) {
            checkName("Array name", entry.getKey());
            if (entry.getValue() == null) {
                throw new IllegalArgumentException("Array '" + entry.getKey() + "' is null");
            }
            arraysCopy.put(entry.getKey(), entry.getValue().clone());
        }
        Map<String, String> metadataCopy = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
            checkName("Metadata key", entry.getKey());
            String value = entry.getValue();
            if (value == null) {
                throw new IllegalArgumentException("Metadata value of '" + entry.getKey() + "' is null");
            }
            if (Utf8.length(value) < 0) {
                throw new IllegalArgumentException("Metadata value of '" + entry.getKey()
                        + "' has an unpaired surrogate and cannot be written as UTF-8");
            }
            metadataCopy.put(entry.getKey(), value);
        }
        this.spec = spec;
        this.params = params.clone();
        this.arrays = Collections.unmodifiableMap(arraysCopy);
        this.metadata = Collections.unmodifiableMap(metadataCopy);
    }

    /** A model with no extra arrays and no metadata. */
    public Model(NetworkSpec spec, double[] params) {
        this(spec, params, Map.of(), Map.of());
    }

    private static void checkName(String what, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException(what + " must be non-empty but got "
                    + (name == null ? "null" : "''"));
        }
        long bytes = Utf8.length(name);
        if (bytes < 0) {
            throw new IllegalArgumentException(what + " '" + name
                    + "' has an unpaired surrogate and cannot be written as UTF-8");
        }
        if (bytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException(what + " must be at most " + MAX_NAME_BYTES
                    + " UTF-8 bytes but got " + bytes + " bytes");
        }
    }

    public NetworkSpec spec() {
        return spec;
    }

    /** A fresh copy of the {@code spec().paramCount()} parameters. */
    public double[] params() {
        return params.clone();
    }

    /** The parameters without a copy, for {@link ModelCodec}; never handed out. */
    double[] paramsView() {
        return params;
    }

    /** The arrays without copies, for {@link ModelCodec}; never handed out. */
    Map<String, double[]> arraysView() {
        return arrays;
    }

    /** Whether there is an array called {@code name}. */
    public boolean hasArray(String name) {
        return arrays.containsKey(name);
    }

    /** A fresh copy of the array called {@code name}, or {@code null} if there is none. */
    public double[] array(String name) {
        double[] values = arrays.get(name);
        return values == null ? null : values.clone();
    }

    /** All named arrays in their order, as an unmodifiable map of fresh copies. */
    public Map<String, double[]> arrays() {
        Map<String, double[]> copy = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> entry : arrays.entrySet()) {
            copy.put(entry.getKey(), entry.getValue().clone());
        }
        return Collections.unmodifiableMap(copy);
    }

    /** The metadata in its order, unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Equal spec, parameters, arrays (names, order and values) and metadata (entries and order).
     * Doubles compare as {@link Double#equals}: {@code -0.0 != 0.0} and NaN equals NaN.
     */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Model other)) {
            return false;
        }
        if (!spec.equals(other.spec) || !Arrays.equals(params, other.params)
                || !List.copyOf(metadata.entrySet()).equals(List.copyOf(other.metadata.entrySet()))
                || !List.copyOf(arrays.keySet()).equals(List.copyOf(other.arrays.keySet()))) {
            return false;
        }
        for (Map.Entry<String, double[]> entry : arrays.entrySet()) {
            if (!Arrays.equals(entry.getValue(), other.arrays.get(entry.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 31 * spec.hashCode() + Arrays.hashCode(params);
        for (Map.Entry<String, double[]> entry : arrays.entrySet()) {
            h = 31 * h + (entry.getKey().hashCode() ^ Arrays.hashCode(entry.getValue()));
        }
        return 31 * h + metadata.hashCode();
    }

    /** For example {@code Model[784-256(RELU)-10(SOFTMAX) SOFTMAX_CROSS_ENTROPY, 203530 params, arrays [scaling.mean], 3 metadata entries]}. */
    @Override
    public String toString() {
        return "Model[" + spec + ", " + params.length + " params, arrays " + arrays.keySet() + ", "
                + metadata.size() + " metadata entries]";
    }
}

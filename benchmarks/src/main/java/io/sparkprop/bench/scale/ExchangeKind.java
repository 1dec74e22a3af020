package io.sparkprop.bench.scale;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How a round's partial results reach the driver; {@link RoundStructure} counts what each costs. */
public enum ExchangeKind {

    /** The partition-ordered treeAggregate ({@code OrderedTreeAggregate}): partials merged in levels. */
    TREE("tree"),
    /** A shuffle keyed by parameter slice: each reducer sums one slice, the driver gets the slices. */
    REDUCE_SCATTER("reduce-scatter");

    private final String label;

    ExchangeKind(String label) {
        this.label = label;
    }

    /** The name in measurement files and reports. */
    public String label() {
        return label;
    }

    /** The kind named {@code label}; throws naming the valid names otherwise. */
    public static ExchangeKind parse(String label) {
        for (ExchangeKind kind : values()) {
            if (kind.label.equals(label)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("Exchange kind must be one of "
                + Arrays.stream(values()).map(ExchangeKind::label).collect(Collectors.joining(", ")) + " but got '"
                + label + "'");
    }
}

package io.sparkprop.spark.config;

import java.util.List;

/**
 * One documented configuration key: its name, default (empty string for none), one-line
 * description, an example value, and, for keys with a fixed set of values, the valid choices.
 * The reference documentation ({@code conf/reference.conf}) is rendered from these.
 */
public record ConfigKey(String name, String defaultValue, String description, String example, List<String> choices,
                        Kind kind) {

    /** How a value is checked. */
    public enum Kind {
        STRING, PATH, INT, LONG, DOUBLE, BOOLEAN, CHOICE, INT_LIST, STRING_LIST
    }

    public ConfigKey {
        choices = choices == null ? List.of() : List.copyOf(choices);
    }

    static ConfigKey of(String name, Kind kind, String defaultValue, String example, String description) {
        return new ConfigKey(name, defaultValue, description, example, List.of(), kind);
    }

    static ConfigKey choice(String name, String defaultValue, List<String> choices, String description) {
        return new ConfigKey(name, defaultValue, description, defaultValue.isEmpty() ? choices.get(0) : defaultValue,
                choices, Kind.CHOICE);
    }
}

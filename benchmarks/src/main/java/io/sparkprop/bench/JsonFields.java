package io.sparkprop.bench;

import java.util.List;

/**
 * One JSON object written field by field, for the benchmark's one-line results (no JSON library on
 * the job's classpath). Keys are written as given; a non-finite number is written as {@code null},
 * so a field is always present and a missing figure is visible as such.
 */
final class JsonFields {

    private final StringBuilder out = new StringBuilder("{");

    JsonFields add(String key, String value) {
        return raw(key, value == null ? "null" : quote(value));
    }

    JsonFields add(String key, double value) {
        return raw(key, number(value));
    }

    JsonFields add(String key, long value) {
        return raw(key, Long.toString(value));
    }

    /** A whole number, or {@code null} for {@code null}. */
    JsonFields add(String key, Long value) {
        return raw(key, value == null ? "null" : value.toString());
    }

    JsonFields add(String key, boolean value) {
        return raw(key, Boolean.toString(value));
    }

    JsonFields add(String key, int[] values) {
        StringBuilder array = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            array.append(i == 0 ? "" : ",").append(values[i]);
        }
        return raw(key, array.append(']').toString());
    }

    /** An array of objects already written as JSON. */
    JsonFields addObjects(String key, List<String> objects) {
        return raw(key, "[" + String.join(",", objects) + "]");
    }

    /** The object, closed. */
    String close() {
        return out.append('}').toString();
    }

    private JsonFields raw(String key, String json) {
        if (out.length() > 1) {
            out.append(',');
        }
        out.append(quote(key)).append(':').append(json);
        return this;
    }

    static String number(double value) {
        return Double.isFinite(value) ? Double.toString(value) : "null";
    }

    static String quote(String s) {
        StringBuilder q = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format("\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }
}

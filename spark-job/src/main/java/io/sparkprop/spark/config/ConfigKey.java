package io.sparkprop.spark.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * One documented setting: its config-file name, the Spark ML param that sets it on the estimators
 * (or {@code null} when only config files do), its kind, default, one-line description, an example,
 * the valid choices for keys with a fixed set of values, and what changing it means for a resumed
 * run. {@link ConfigSchema} declares every key; {@code conf/reference.conf} and the estimator
 * params' docs and defaults are rendered from these declarations.
 *
 * <p>Values are typed: {@link Kind} says which Java type {@code T} a value has and how it is read
 * from and written to a config file's text. An empty text means "not set", read as {@code null}.
 *
 * @param defaultValue the default as config text; empty for none
 * @param param        the estimators' param name ({@code stepSize} for {@code train.learning-rate}),
 *                     or {@code null}
 * @param valid        what a set value of this key must satisfy on its own (checks across keys live
 *                     in {@link TrainingConfig}); the estimators' param validators use it too
 * @param validity     {@code valid} in words, as errors say it: {@code must be > 0}
 * @param <T>          the value's type: Integer, Long, Double, Boolean, String, int[], double[] or
 *                     List&lt;String&gt;
 */
public record ConfigKey<T>(String name, String defaultValue, String description, String example, List<String> choices,
                           Kind kind, String param, Resume resume, Predicate<T> valid, String validity) {

    /** How a value is written and checked, and its Java type. */
    public enum Kind {
        /** A string. */
        STRING,
        /**
         * A Hadoop URI; relative paths in a config file resolve against the file's directory, and
         * others against the default file system's working directory, which a run records
         * ({@link JobConfig#withQualifiedPaths}).
         */
        PATH,
        /** An Integer. */
        INT,
        /** A Long. */
        LONG,
        /** A finite Double. */
        DOUBLE,
        /** A Boolean, written {@code true} or {@code false}. */
        BOOLEAN,
        /** A String, one of {@link ConfigKey#choices()}, lower case. */
        CHOICE,
        /** An {@code int[]}, written comma-separated. */
        INT_LIST,
        /** A {@code double[]} of finite numbers, written comma-separated. */
        DOUBLE_LIST,
        /** A {@code List<String>}, written comma-separated. */
        STRING_LIST
    }

    /**
     * What changing a key between a checkpoint and its resumption means; the key's declaration
     * states it, so the resume check needs no list of its own.
     */
    public enum Resume {
        /** Changes what is trained or the shape of the state: resuming is refused. */
        MUST_MATCH,
        /** Changes only how long, how often or where things are written: logged. */
        HARMLESS,
        /** Allowed, with a warning that the rest of the run will differ from an uninterrupted one. */
        TRAJECTORY
    }

    public ConfigKey {
        choices = choices == null ? List.of() : List.copyOf(choices);
        resume = resume == null ? Resume.TRAJECTORY : resume;
        valid = valid == null ? v -> true : valid;
        validity = validity == null ? "" : validity;
    }

    static <T> ConfigKey<T> of(String name, Kind kind, String defaultValue, String example, String description) {
        return new ConfigKey<>(name, defaultValue, description, example, List.of(), kind, null, null, null, null);
    }

    static ConfigKey<String> choice(String name, String defaultValue, List<String> choices, String description) {
        return new ConfigKey<>(name, defaultValue, description, defaultValue.isEmpty() ? choices.get(0) : defaultValue,
                choices, Kind.CHOICE, null, null, null, null);
    }

    /** This key, set on the estimators by the param {@code paramName}. */
    ConfigKey<T> param(String paramName) {
        return new ConfigKey<>(name, defaultValue, description, example, choices, kind, paramName, resume, valid,
                validity);
    }

    /** This key with resume rule {@code rule}. */
    ConfigKey<T> resume(Resume rule) {
        return new ConfigKey<>(name, defaultValue, description, example, choices, kind, param, rule, valid, validity);
    }

    /** This key, whose set values must satisfy {@code test}, described as {@code words} ("must be > 0"). */
    ConfigKey<T> valid(Predicate<T> test, String words) {
        return new ConfigKey<>(name, defaultValue, description, example, choices, kind, param, resume, test, words);
    }

    /**
     * The typed value of config text {@code text}; {@code null} for empty text. Throws
     * {@code IllegalArgumentException} saying what was expected (without the key's name, which the
     * caller adds with the place the text came from).
     */
    @SuppressWarnings("unchecked")
    public T parse(String text) {
        String value = text.strip();
        if (value.isEmpty()) {
            return null;
        }
        try {
            Object parsed = switch (kind) {
                case INT -> Integer.parseInt(value);
                case LONG -> Long.parseLong(value);
                case DOUBLE -> {
                    double d = Double.parseDouble(value);
                    if (!Double.isFinite(d)) {
                        throw new IllegalArgumentException("a finite number");
                    }
                    yield d;
                }
                case BOOLEAN -> {
                    if (!value.equals("true") && !value.equals("false")) {
                        throw new IllegalArgumentException("true or false");
                    }
                    yield Boolean.parseBoolean(value);
                }
                case CHOICE -> {
                    String lower = value.toLowerCase(Locale.ROOT);
                    if (!choices.contains(lower)) {
                        throw new IllegalArgumentException("one of " + String.join(", ", choices));
                    }
                    yield lower;
                }
                case INT_LIST -> Arrays.stream(value.split(",", -1)).map(String::strip).mapToInt(Integer::parseInt)
                        .toArray();
                case DOUBLE_LIST -> {
                    double[] list = Arrays.stream(value.split(",", -1)).map(String::strip)
                            .mapToDouble(Double::parseDouble).toArray();
                    if (!Arrays.stream(list).allMatch(Double::isFinite)) {
                        throw new IllegalArgumentException("comma-separated finite numbers");
                    }
                    yield list;
                }
                case STRING_LIST -> {
                    List<String> list = new ArrayList<>();
                    for (String part : value.split(",")) {
                        if (!part.isBlank()) {
                            list.add(part.strip());
                        }
                    }
                    yield List.copyOf(list);
                }
                case STRING, PATH -> value;
            };
            return (T) parsed;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(switch (kind) {
                case INT -> "an integer";
                case LONG -> "a 64-bit integer";
                case DOUBLE -> "a number";
                case INT_LIST -> "comma-separated integers";
                case DOUBLE_LIST -> "comma-separated numbers";
                default -> "a valid value";
            });
        }
    }

    /** {@code value} as config text ({@link #parse} reads it back); empty for {@code null}. */
    public String format(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof int[] ints) {
            return Arrays.stream(ints).mapToObj(Integer::toString).collect(Collectors.joining(","));
        }
        if (value instanceof double[] doubles) {
            return Arrays.stream(doubles).mapToObj(Double::toString).collect(Collectors.joining(","));
        }
        if (value instanceof List<?> list) {
            return list.stream().map(Object::toString).collect(Collectors.joining(","));
        }
        return value.toString();
    }

    /** The typed default ({@code null} when the key has none). */
    public T defaultTyped() {
        return parse(defaultValue);
    }

    /**
     * An error about this key's {@code value}: {@code Config key 'name' expectation but got 'value'}.
     * {@link TrainingConfig#from} adds where the value came from.
     */
    public ConfigException invalid(Object value, String expectation) {
        return new ConfigException(this, format(value), expectation);
    }

    /** Throws {@link #invalid} unless {@code value} is {@link #valid}; returns it. */
    public T check(T value) {
        if (value != null && !valid.test(value)) {
            throw invalid(value, validity);
        }
        return value;
    }

    /** Throws {@link #invalid} unless {@code ok}. */
    public void check(boolean ok, Object value, String expectation) {
        if (!ok) {
            throw invalid(value, expectation);
        }
    }
}

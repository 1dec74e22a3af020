package io.sparkprop.spark.ml;

import io.sparkprop.spark.config.ConfigKey;
import io.sparkprop.spark.config.ConfigSource;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/**
 * An estimator's params as a {@link ConfigSource}: a key that names a param ({@link ConfigKey#param()})
 * takes the param's value (set or default), converted to the key's type ({@code leaky_relu} is
 * {@code leaky-relu}; an empty string is "not set"); {@code fixed} values (the task, MLlib's
 * {@code solver} and {@code tol}) come first; every other key keeps its default.
 */
final class ParamsSource implements ConfigSource {

    private final Params stage;
    private final Map<ConfigKey<?>, Object> fixed;
    private final Map<ConfigKey<?>, String> why;

    /**
     * @param fixed values that win over the params
     * @param why   for each fixed key, what fixed it (for errors and config.conf)
     */
    ParamsSource(Params stage, Map<ConfigKey<?>, Object> fixed, Map<ConfigKey<?>, String> why) {
        this.stage = stage;
        this.fixed = Map.copyOf(fixed);
        this.why = Map.copyOf(why);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T value(ConfigKey<T> key) {
        if (fixed.containsKey(key)) {
            return (T) fixed.get(key);
        }
        Param<Object> param = param(key);
        if (param != null && stage.isDefined(param)) {
            return (T) fromParam(key, stage.getOrDefault(param));
        }
        return key.defaultTyped();
    }

    @Override
    public String origin(ConfigKey<?> key) {
        if (fixed.containsKey(key)) {
            return why.getOrDefault(key, "the estimator");
        }
        Param<Object> param = param(key);
        if (param == null) {
            return "default";
        }
        return stage.isSet(param) ? "param " + key.param() : "param " + key.param() + "'s default";
    }

    @Override
    public String subject(ConfigKey<?> key) {
        return key.param() != null ? "Param " + key.param() + " (config key '" + key.name() + "')"
                : "Config key '" + key.name() + "'";
    }

    @SuppressWarnings("unchecked")
    private Param<Object> param(ConfigKey<?> key) {
        return key.param() != null && stage.hasParam(key.param()) ? (Param<Object>) stage.getParam(key.param()) : null;
    }

    /** A param's value as the key's typed value: choices in the config's spelling, "" as unset. */
    static Object fromParam(ConfigKey<?> key, Object value) {
        if (value instanceof String text) {
            if (text.isEmpty()) {
                return null;
            }
            boolean spelledForSpark = key.kind() == ConfigKey.Kind.CHOICE && !key.choices().contains(text);
            return spelledForSpark ? text.replace('_', '-') : text;
        }
        return value;
    }

    /** A key's typed value as its param's value: choices in Spark's spelling ({@code leaky_relu}). */
    static Object toParam(ConfigKey<?> key, Object value) {
        return key.kind() == ConfigKey.Kind.CHOICE && value instanceof String text ? text.replace('-', '_') : value;
    }

    /** A choice key's values in Spark's spelling. */
    static List<String> paramChoices(ConfigKey<?> key) {
        return key.choices().stream().map(c -> c.replace('-', '_')).toList();
    }
}

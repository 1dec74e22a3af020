/**
 * Settings: every key declared once ({@link io.sparkprop.spark.config.ConfigSchema}: name,
 * default, documentation, estimator param, own check, resume rule), the config file's form
 * ({@link io.sparkprop.spark.config.JobConfig}), and the one typed, validated value both front
 * doors build from them ({@link io.sparkprop.spark.config.TrainingConfig}).
 *
 * <p>Not here: anything that runs; this package imports only the core and the data package's
 * option types.
 */
package io.sparkprop.spark.config;

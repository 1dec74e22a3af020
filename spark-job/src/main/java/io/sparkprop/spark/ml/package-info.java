/**
 * The Spark ML API: {@link io.sparkprop.spark.ml.MlpClassifier} and
 * {@link io.sparkprop.spark.ml.MlpRegressor} (params generated from the config schema, fit through
 * the training session) and their fitted models (transform, evaluate, save and load).
 *
 * <p>Not here: command-line code (never imported) or a training pipeline of its own.
 */
package io.sparkprop.spark.ml;

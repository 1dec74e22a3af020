/**
 * What a run leaves for people: the run directory's layout
 * ({@link io.sparkprop.spark.report.RunDirectory}), the learning curves, confusion heatmap and
 * report.html ({@link io.sparkprop.spark.report.RunReport}), and evaluation metrics with their
 * JSON and text forms ({@link io.sparkprop.spark.report.EvaluationMetrics}).
 *
 * <p>Not here: training or the model file.
 */
package io.sparkprop.spark.report;

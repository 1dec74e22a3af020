/**
 * Update rules and their parts: optimizers (SGD, momentum and Nesterov, Adam and AdamW) with a
 * documented lifecycle and flat state for checkpoints, learning-rate schedules with warm-up, and
 * clipping by global norm. Each class cites its source.
 *
 * <p>Not here: when an update happens or over which rows (the trainers), or how state travels.
 */
package io.sparkprop.core.optim;

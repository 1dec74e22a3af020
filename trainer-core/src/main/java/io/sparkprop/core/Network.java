package io.sparkprop.core;

import java.util.Arrays;

/**
 * The computing side of a {@link NetworkSpec}: batched forward and backward passes over the rows
 * loaded in a {@link Workspace}, with parameters passed in as one flat array (so a broadcast array
 * can be used as is). Stateless and thread-safe; all state lives in the workspace and the arrays
 * the caller passes.
 *
 * <p>The maths, per layer {@code k} with samples as rows ({@code H_{k-1} (n, numIn)}):
 * <pre>
 *   forward:   A_k = H_{k-1} W_kᵀ + 1 b_kᵀ ;  H_k = f_k(A_k)
 *   backward:  G  <- G ⊙ f_k'(A_k)            (G = ∂J/∂H_k on entry, ∂J/∂A_k after)
 *              ∇W_k += Gᵀ H_{k-1} ;  ∇b_k += Gᵀ 1 ;  G <- G W_k   (∂J/∂H_{k-1})
 * </pre>
 * which is the seeds' {@code g <- g ⊙ f'(a); ∇W = g hᵀ; ∇b = g; g <- Wᵀ g} for all rows at once.
 *
 * <p>Each pass is one loop over the layers. Its three matrix products per layer,
 * {@link #affineForward}, {@link #weightGradient} and {@link #inputGradient}, each decide how they
 * are computed: BLAS {@code dgemm} in {@link Precision#FLOAT64}, {@code sgemm} on float copies in
 * {@link Precision#FLOAT32}, and from the nonzeros for a sparse input's first layer.
 *
 * <p>With {@link Dropout} rates, the training pass ({@link #lossAndGradient}) replaces each hidden
 * output {@code H_k} by {@code H̃_k = H_k ⊙ M_k} as the next layer's input, and multiplies
 * {@code ∂J/∂H̃_k} by {@code M_k} on the way back; every other pass computes without dropout.
 */
public final class Network implements java.io.Serializable {

    private static final long serialVersionUID = 1L;


    private final NetworkSpec spec;
    private final Precision precision;
    private final Dropout dropout;
    /** Each layer's dropout rate (the output layer's is 0). */
    private final double[] rates;
    /** {@code o_k = Σ_{i<k} numOut_i}: where layer {@code k}'s units start among the hidden units. */
    private final long[] unitOffsets;

    /** A network computing in double precision throughout, without dropout. */
    public Network(NetworkSpec spec) {
        this(spec, Precision.FLOAT64);
    }

    /** A network whose matrix products run in {@code precision}, without dropout. */
    public Network(NetworkSpec spec, Precision precision) {
        this(spec, precision, Dropout.none());
    }

    /**
     * A network whose matrix products run in {@code precision} and whose training pass drops hidden
     * units at {@code dropout}'s rates (for {@code spec}'s hidden layers, or {@link Dropout#none()}).
     */
    public Network(NetworkSpec spec, Precision precision, Dropout dropout) {
        if (spec == null) {
            throw new IllegalArgumentException("Network spec must be given but got null");
        }
        if (precision == null) {
            throw new IllegalArgumentException("Precision must be given but got null");
        }
        if (dropout == null) {
            throw new IllegalArgumentException("Dropout must be given (Dropout.none() for none) but got null");
        }
        this.spec = spec;
        this.precision = precision;
        this.dropout = dropout;
        this.rates = dropout.layerRates(spec);
        this.unitOffsets = new long[spec.numLayers()];
        for (int k = 1; k < spec.numLayers(); k++) {
            unitOffsets[k] = unitOffsets[k - 1] + spec.layer(k - 1).numOut();
        }
    }

    public Precision precision() {
        return precision;
    }

    public Dropout dropout() {
        return dropout;
    }

    public NetworkSpec spec() {
        return spec;
    }

    /**
     * Runs the forward pass over the workspace's current rows, without dropout (for prediction and
     * evaluation). {@code params (paramCount)} is read; the workspace's {@code a} and {@code h}
     * buffers are OVERWRITTEN; the output is {@link Workspace#output()}.
     */
    public void forward(double[] params, Workspace ws) {
        forward(params, ws, false);
    }

    /**
     * The forward pass; {@code training} applies the dropout masks of the workspace's key, drawn
     * into its mask buffers, and makes the next backward pass apply them too.
     */
    private void forward(double[] params, Workspace ws, boolean training) {
        checkParams(params);
        checkWorkspace(ws);
        ws.masked = training && dropout.isActive();
        if (ws.masked && !ws.dropoutKeySet) {
            throw new IllegalStateException("Network " + spec + " trains with " + dropout + " but the workspace has"
                    + " no dropout key for its batch; call Workspace.setDropoutKey(seed, epoch, step, partition)"
                    + " after gather or load");
        }
        int n = ws.rows;
        if (n == 0) {
            return;
        }
        if (precision == Precision.FLOAT32) {
            floatCopies(params, ws);
        }
        int last = spec.numLayers() - 1;
        for (int k = 0; k <= last; k++) {
            LayerSpec layer = spec.layer(k);
            affineForward(k, params, ws);
            layer.activation().forward(ws.a[k], ws.h[k], n, layer.numOut());
            if (k < last && dropped(k, ws)) {
                dropoutForward(k, ws);
            }
            if (precision == Precision.FLOAT32 && k < last) {
                // The next layer's products read its input rounded to float.
                toFloat(input(k + 1, ws), 0, ws.floats().h[k], 0, n * layer.numOut());
            }
        }
    }

    /**
     * Forward and backward pass with the spec's loss over the workspace's current rows: the training
     * pass, the only one that applies {@link Dropout} (with the workspace's
     * {@linkplain Workspace#setDropoutKey key}, which it then requires).
     *
     * <p>{@code gradSum (paramCount)} ACCUMULATES {@code Σ_i w_i ∇_θ L_i} (no division, no L2: the
     * driver divides once after summing every partition). Returns the loss sum
     * {@code Σ_i w_i L_i}. Workspace buffers are OVERWRITTEN.
     */
    public double lossAndGradient(double[] params, Workspace ws, double[] gradSum) {
        return lossAndGradient(params, ws, gradSum, null);
    }

    /**
     * {@link #lossAndGradient(double[], Workspace, double[])} with a sparse batch's first-layer
     * weight gradient added to {@code firstLayer} (row-sparse, when given and the first layer is
     * stored {@link WeightLayout#IN_OUT}) instead of {@code gradSum}, whose first-layer weights are
     * then left as they were.
     */
    double lossAndGradient(double[] params, Workspace ws, double[] gradSum, RowSparseSums firstLayer) {
        forward(params, ws, true);
        int n = ws.rows;
        if (n == 0) {
            return 0.0;
        }
        int last = spec.numLayers() - 1;
        int width = spec.outputSize();
        double loss = spec.loss().forwardBackward(spec.layer(last).activation(), ws.a[last], ws.h[last], ws.y,
                ws.weighted ? ws.w : null, ws.gradA, n, width);
        backpropagate(params, ws, ws.gradA, gradSum, null, firstLayer);
        return loss;
    }

    /**
     * The summed loss {@code Σ_i w_i L_i} of the workspace's current rows, forward pass only (no
     * gradient, no dropout). Workspace buffers are OVERWRITTEN.
     */
    public double loss(double[] params, Workspace ws) {
        return loss(params, ws, false);
    }

    /**
     * The loss {@link #lossAndGradient} returns, without the gradient: with the dropout masks of
     * the workspace's key. For {@link GradientCheck}'s fixed-mask check.
     */
    double trainingLoss(double[] params, Workspace ws) {
        return loss(params, ws, true);
    }

    private double loss(double[] params, Workspace ws, boolean training) {
        forward(params, ws, training);
        int n = ws.rows;
        if (n == 0) {
            return 0.0;
        }
        int last = spec.numLayers() - 1;
        return spec.loss().forwardBackward(spec.layer(last).activation(), ws.a[last], ws.h[last], ws.y,
                ws.weighted ? ws.w : null, ws.gradA, n, spec.outputSize());
    }

    /**
     * The general backward pass from an arbitrary upstream gradient {@code gradOutput = ∂J/∂ŷ}
     * {@code (rows, outputSize)} of the output {@code ŷ = H_l}, after {@link #forward}: the seeds'
     * backward pass starting from {@code g = ∇_ŷ J}. {@code gradSum} ACCUMULATES {@code ∂J/∂θ};
     * {@code gradInput (rows, inputSize)}, if not null, is OVERWRITTEN with {@code ∂J/∂x}.
     * {@code gradOutput} is read only. It goes back through the pass that last ran on {@code ws}:
     * without dropout after {@link #forward}.
     */
    public void backward(double[] params, Workspace ws, double[] gradOutput, double[] gradSum, double[] gradInput) {
        checkParams(params);
        checkWorkspace(ws);
        int n = ws.rows;
        int last = spec.numLayers() - 1;
        int width = spec.outputSize();
        if (gradOutput.length < n * width) {
            throw new IllegalArgumentException("Expected at least " + (n * width) + " output gradients but got "
                    + gradOutput.length);
        }
        if (precision == Precision.FLOAT32) {
            // The products use the float copy forward made; refresh it in case params differ.
            toFloat(params, 0, ws.floats().weights, 0, params.length);
        }
        System.arraycopy(gradOutput, 0, ws.gradA, 0, n * width);
        spec.layer(last).activation().backward(ws.a[last], ws.h[last], ws.gradA, n, width);
        backpropagate(params, ws, ws.gradA, gradSum, gradInput, null);
    }

    /**
     * Propagates {@code delta = ∂J/∂A_l} (in {@code ws.gradA}) down the layers, accumulating
     * parameter gradients into {@code gradSum} and, if asked, writing {@code ∂J/∂x}.
     */
    private void backpropagate(double[] params, Workspace ws, double[] deltaTop, double[] gradSum, double[] gradInput,
                               RowSparseSums firstLayer) {
        if (gradSum.length != spec.paramCount()) {
            throw new IllegalArgumentException("Expected a gradient of " + spec.paramCount() + " values but got "
                    + gradSum.length);
        }
        if (gradInput != null && gradInput.length < ws.rows * spec.inputSize()) {
            throw new IllegalArgumentException("Expected room for " + (ws.rows * spec.inputSize())
                    + " input gradients but got " + gradInput.length);
        }
        int n = ws.rows;
        if (n == 0) {
            return;
        }
        double[] delta = deltaTop;
        double[] spare = delta == ws.gradA ? ws.gradB : ws.gradA;
        for (int k = spec.numLayers() - 1; k >= 0; k--) {
            LayerSpec layer = spec.layer(k);
            if (floatProducts(k, ws)) {
                // Both of this layer's products read delta rounded to float.
                toFloat(delta, 0, ws.floats().delta, 0, n * layer.numOut());
            }
            weightGradient(k, ws, delta, gradSum, firstLayer);
            addBiasGradient(delta, n, layer.numOut(), gradSum, spec.biasOffset(k));
            if (k == 0 && gradInput == null) {
                break;
            }
            double[] gradIn = k == 0 ? gradInput : spare;
            inputGradient(k, params, ws, delta, gradIn);
            if (k > 0) {
                if (dropped(k - 1, ws)) {
                    dropoutBackward(k - 1, ws, gradIn);
                }
                spec.layer(k - 1).activation().backward(ws.a[k - 1], ws.h[k - 1], gradIn, n, layer.numIn());
                spare = delta;
                delta = gradIn;
            }
        }
    }

    /**
     * Whether layer {@code k}'s products run in {@code sgemm}: in {@link Precision#FLOAT32}, except
     * a sparse input's first layer, which works from the nonzeros in double.
     */
    private boolean floatProducts(int k, Workspace ws) {
        return precision == Precision.FLOAT32 && !(k == 0 && ws.sparse);
    }

    /**
     * {@link Precision#FLOAT32}'s float copies of what the products read: the weights (all but a
     * sparse input's first layer, which is used in double) and a dense input. Products in float are
     * widened to double before the (double) bias, activation and gradient sums.
     */
    private void floatCopies(double[] params, Workspace ws) {
        Workspace.Floats f = ws.floats();
        int firstConverted = ws.sparse ? (spec.numLayers() > 1 ? spec.weightOffset(1) : params.length) : 0;
        toFloat(params, firstConverted, f.weights, firstConverted, params.length - firstConverted);
        if (!ws.sparse) {
            int size = ws.rows * spec.inputSize();
            toFloat(ws.x, 0, f.x(size), 0, size);
        }
    }

    /**
     * Layer {@code k}'s input {@code H_{k-1}} in double: the input {@code x}, {@code h_{k-1}}, or in a
     * training pass with dropout {@code h_{k-1} ⊙ m_{k-1}}.
     */
    private double[] input(int k, Workspace ws) {
        return k == 0 ? ws.x : dropped(k - 1, ws) ? ws.masks().out[k - 1] : ws.h[k - 1];
    }

    /** Whether hidden layer {@code k}'s output is dropped in the pass that last ran on {@code ws}. */
    private boolean dropped(int k, Workspace ws) {
        return ws.masked && rates[k] > 0.0;
    }

    /** Draws hidden layer {@code k}'s mask for the batch ({@link Dropout}) and applies it to its output. */
    private void dropoutForward(int k, Workspace ws) {
        int numOut = spec.layer(k).numOut();
        Workspace.Masks masks = ws.masks();
        double[] mask = masks.mask[k];
        Dropout.drawMask(rates[k], ws.dropoutStream, ws.rowIds, ws.rows, numOut, unitOffsets[k], mask);
        // h (n, numOut), mask (n, numOut), out (n, numOut): out = h ⊙ mask.
        double[] h = ws.h[k];
        double[] out = masks.out[k];
        for (int i = 0; i < ws.rows * numOut; i++) {
            out[i] = h[i] * mask[i];
        }
    }

    /** {@code ∂J/∂H_k = ∂J/∂H̃_k ⊙ M_k}: {@code g (n, numOut)} of hidden layer {@code k}, in place. */
    private void dropoutBackward(int k, Workspace ws, double[] g) {
        int len = ws.rows * spec.layer(k).numOut();
        double[] mask = ws.masks().mask[k];
        for (int i = 0; i < len; i++) {
            g[i] *= mask[i];
        }
    }

    /** Layer {@code k}'s input {@code H_{k-1}} rounded to float ({@link #floatCopies}, {@link #forward}). */
    private static float[] floatInput(int k, Workspace ws) {
        return k == 0 ? ws.floats().x(0) : ws.floats().h[k - 1];
    }

    /**
     * Layer {@code k}'s pre-activation {@code A_k = H_{k-1} W_kᵀ + 1 b_kᵀ}, OVERWRITING
     * {@code ws.a[k]}: a {@code dgemm} onto the broadcast biases, an {@code sgemm} widened and added
     * to them, or from a sparse input's nonzeros.
     */
    private void affineForward(int k, double[] params, Workspace ws) {
        double[] a = ws.a[k];
        if (k == 0 && ws.sparse) {
            sparseForward(params, ws, a);
            return;
        }
        int n = ws.rows;
        int numIn = spec.layer(k).numIn();
        int numOut = spec.layer(k).numOut();
        int bOff = spec.biasOffset(k);
        // hPrev (n, numIn), w (numOut, numIn), a (n, numOut): a = 1 bᵀ + hPrev wᵀ.
        // Column-major: aᵀ (numOut, n) = op_T(w as (numIn, numOut)) · hPrevᵀ (numIn, n); with the
        // first layer IN_OUT, w's storage is column-major (numOut, numIn) already: op_N, ld numOut.
        boolean inOut = inOut(k);
        String opW = inOut ? "N" : "T";
        int ldW = inOut ? numOut : numIn;
        if (precision == Precision.FLOAT64) {
            for (int r = 0; r < n; r++) {
                System.arraycopy(params, bOff, a, r * numOut, numOut);
            }
            Blas.get().dgemm(opW, "N", numOut, n, numIn, 1.0, params, spec.weightOffset(k), ldW,
                    input(k, ws), 0, numIn, 1.0, a, 0, numOut);
        } else {
            Workspace.Floats f = ws.floats();
            float[] product = f.product(n * numOut);
            Blas.get().sgemm(opW, "N", numOut, n, numIn, 1.0f, f.weights, spec.weightOffset(k), ldW,
                    floatInput(k, ws), 0, numIn, 0.0f, product, 0, numOut);
            for (int r = 0; r < n; r++) {
                int off = r * numOut;
                for (int j = 0; j < numOut; j++) {
                    a[off + j] = params[bOff + j] + product[off + j];
                }
            }
        }
    }

    /**
     * {@code ∇W_k += deltaᵀ H_{k-1}} into {@code gradSum}: a {@code dgemm} accumulating in place,
     * an {@code sgemm} (of the float delta) widened and added, or from a sparse input's nonzeros.
     */
    private void weightGradient(int k, Workspace ws, double[] delta, double[] gradSum, RowSparseSums firstLayer) {
        if (k == 0 && ws.sparse) {
            sparseWeightGradient(ws, delta, gradSum, firstLayer);
            return;
        }
        int n = ws.rows;
        int numIn = spec.layer(k).numIn();
        int numOut = spec.layer(k).numOut();
        int wOff = spec.weightOffset(k);
        // delta (n, numOut), hPrev (n, numIn), ∇W (numOut, numIn): ∇W += deltaᵀ hPrev.
        // Column-major: ∇Wᵀ (numIn, numOut) += hPrevᵀ (numIn, n) · op_T(deltaᵀ as (numOut, n)); with
        // the first layer IN_OUT, ∇W (numOut, numIn) column-major += deltaᵀ (numOut, n) · op_T(hPrevᵀ).
        boolean inOut = inOut(k);
        if (precision == Precision.FLOAT64) {
            if (inOut) {
                Blas.get().dgemm("N", "T", numOut, numIn, n, 1.0, delta, 0, numOut, input(k, ws), 0, numIn,
                        1.0, gradSum, wOff, numOut);
            } else {
                Blas.get().dgemm("N", "T", numIn, numOut, n, 1.0, input(k, ws), 0, numIn, delta, 0, numOut,
                        1.0, gradSum, wOff, numIn);
            }
        } else {
            Workspace.Floats f = ws.floats();
            int size = numIn * numOut;
            float[] gradW = f.gradW(size);
            if (inOut) {
                Blas.get().sgemm("N", "T", numOut, numIn, n, 1.0f, f.delta, 0, numOut, floatInput(k, ws), 0, numIn,
                        0.0f, gradW, 0, numOut);
            } else {
                Blas.get().sgemm("N", "T", numIn, numOut, n, 1.0f, floatInput(k, ws), 0, numIn, f.delta, 0, numOut,
                        0.0f, gradW, 0, numIn);
            }
            for (int i = 0; i < size; i++) {
                gradSum[wOff + i] += gradW[i];
            }
        }
    }

    /**
     * {@code gradIn = delta W_k}, that is {@code ∂J/∂H_{k-1}} {@code (n, numIn)}, OVERWRITTEN: a
     * {@code dgemm}, or an {@code sgemm} (of the float delta) widened. A sparse input's first layer
     * has no float weights, so its {@code ∂J/∂x} is a {@code dgemm} in either precision.
     */
    private void inputGradient(int k, double[] params, Workspace ws, double[] delta, double[] gradIn) {
        int n = ws.rows;
        int numIn = spec.layer(k).numIn();
        int numOut = spec.layer(k).numOut();
        int wOff = spec.weightOffset(k);
        // delta (n, numOut), w (numOut, numIn), gradIn (n, numIn): gradIn = delta w.
        // Column-major: gradInᵀ (numIn, n) = (w as (numIn, numOut)) · deltaᵀ (numOut, n); with the first
        // layer IN_OUT, w's storage is column-major (numOut, numIn): op_T, ld numOut.
        boolean inOut = inOut(k);
        String opW = inOut ? "T" : "N";
        int ldW = inOut ? numOut : numIn;
        if (!floatProducts(k, ws)) {
            Blas.get().dgemm(opW, "N", numIn, n, numOut, 1.0, params, wOff, ldW, delta, 0, numOut,
                    0.0, gradIn, 0, numIn);
        } else {
            Workspace.Floats f = ws.floats();
            float[] product = f.product(n * numIn);
            Blas.get().sgemm(opW, "N", numIn, n, numOut, 1.0f, f.weights, wOff, ldW, f.delta, 0, numOut,
                    0.0f, product, 0, numIn);
            for (int i = 0; i < n * numIn; i++) {
                gradIn[i] = product[i];
            }
        }
    }

    /**
     * The first layer's pre-activation from a sparse input. The weights of the batch's distinct
     * columns are first copied into a compact {@code (columns, numOut)} array; then row {@code r}'s
     * pre-activation is its bias plus, nonzero by nonzero in ascending column order, {@code v_p}
     * times its column's weights: contiguous runs of {@code numOut} multiply-adds.
     */
    private void sparseForward(double[] params, Workspace ws, double[] a) {
        int numIn = spec.inputSize();
        int numOut = spec.layer(0).numOut();
        int wOff = spec.weightOffset(0);
        int bOff = spec.biasOffset(0);
        int unique = ws.xUniqueCount;
        int[] columns = ws.xUnique;
        double[] w = ws.xWeights;
        // W (numOut, numIn) row-major -> w (unique, numOut): the batch's columns, each one contiguous;
        // IN_OUT stores each column contiguously already: copy its row.
        if (inOut(0)) {
            for (int s = 0; s < unique; s++) {
                System.arraycopy(params, wOff + columns[s] * numOut, w, s * numOut, numOut);
            }
        } else {
            for (int j = 0; j < numOut; j++) {
                int row = wOff + j * numIn;
                for (int s = 0; s < unique; s++) {
                    w[s * numOut + j] = params[row + columns[s]];
                }
            }
        }
        int[] start = ws.xStart;
        int[] slot = ws.xSlot;
        double[] values = ws.xValues;
        // x: n rows of nonzeros (slot, value); a (n, numOut) = b + Σ value · w[slot].
        for (int r = 0; r < ws.rows; r++) {
            int out = r * numOut;
            System.arraycopy(params, bOff, a, out, numOut);
            for (int p = start[r]; p < start[r + 1]; p++) {
                int from = slot[p] * numOut;
                double v = values[p];
                for (int j = 0; j < numOut; j++) {
                    a[out + j] += v * w[from + j];
                }
            }
        }
    }

    /**
     * {@code ∇W_1 += deltaᵀ X} for a sparse input: each nonzero {@code v} of row {@code r} adds
     * {@code v · delta[r]} to its column's row of a compact gradient (rows in order), which is then
     * added into {@code gradSum} column by column.
     */
    private void sparseWeightGradient(Workspace ws, double[] delta, double[] gradSum, RowSparseSums firstLayer) {
        int numIn = spec.inputSize();
        int numOut = spec.layer(0).numOut();
        int wOff = spec.weightOffset(0);
        int unique = ws.xUniqueCount;
        // delta (n, numOut); g (unique, numOut) = Σ_r value · delta[r] per nonzero; then
        // ∇W (numOut, numIn) row-major += gᵀ at the batch's columns.
        double[] g = ws.xGrad;
        Arrays.fill(g, 0, unique * numOut, 0.0);
        int[] start = ws.xStart;
        int[] slot = ws.xSlot;
        double[] values = ws.xValues;
        for (int r = 0; r < ws.rows; r++) {
            int d = r * numOut;
            for (int p = start[r]; p < start[r + 1]; p++) {
                int to = slot[p] * numOut;
                double v = values[p];
                for (int j = 0; j < numOut; j++) {
                    g[to + j] += v * delta[d + j];
                }
            }
        }
        int[] columns = ws.xUnique;
        if (firstLayer != null && inOut(0)) {
            // g's rows are the batch's columns, increasing: the row-sparse form as it stands.
            firstLayer.add(columns, g, unique);
            return;
        }
        if (inOut(0)) {
            // ∇W stored (numIn, numOut): each column's gradient is a contiguous row.
            for (int s = 0; s < unique; s++) {
                int to = wOff + columns[s] * numOut;
                int from = s * numOut;
                for (int j = 0; j < numOut; j++) {
                    gradSum[to + j] += g[from + j];
                }
            }
            return;
        }
        for (int j = 0; j < numOut; j++) {
            int row = wOff + j * numIn;
            for (int s = 0; s < unique; s++) {
                gradSum[row + columns[s]] += g[s * numOut + j];
            }
        }
    }

    /** Whether layer {@code k}'s weights are stored {@link WeightLayout#IN_OUT} (only ever the first layer's). */
    private boolean inOut(int k) {
        return k == 0 && spec.firstLayerLayout() == WeightLayout.IN_OUT;
    }

    /** ∇b (numOut) at {@code bOff} of {@code gradSum} += column sums of delta (n, numOut), rows in order. */
    private static void addBiasGradient(double[] delta, int n, int numOut, double[] gradSum, int bOff) {
        for (int r = 0; r < n; r++) {
            int off = r * numOut;
            for (int j = 0; j < numOut; j++) {
                gradSum[bOff + j] += delta[off + j];
            }
        }
    }

    private static void toFloat(double[] from, int fromOffset, float[] to, int toOffset, int count) {
        for (int i = 0; i < count; i++) {
            to[toOffset + i] = (float) from[fromOffset + i];
        }
    }

    /**
     * Adds the L2 penalty's contribution to summed loss and gradient: returns {@code λ/2 Σ W²} over
     * weights (not biases), and {@code gradSum} ACCUMULATES {@code λ W}. Divided by the example
     * count {@code m} with the rest, this is the seeds' {@code λ/(2m) Σ θ²} with gradient
     * {@code λ/m · W}.
     */
    public double addL2(double[] params, double lambda, double[] gradSum) {
        if (lambda == 0.0) {
            return 0.0;
        }
        double sumSquares = 0.0;
        for (int k = 0; k < spec.numLayers(); k++) {
            int from = spec.weightOffset(k);
            int to = spec.biasOffset(k);
            for (int i = from; i < to; i++) {
                double v = params[i];
                sumSquares += v * v;
                gradSum[i] += lambda * v;
            }
        }
        return 0.5 * lambda * sumSquares;
    }

    /**
     * The L2 penalty {@link #addL2} returns, {@code ½ λ Σ w²} over the weights (not the biases), in
     * the same order, without a gradient to add to: for evaluating an objective.
     */
    public double l2Penalty(double[] params, double lambda) {
        if (lambda == 0.0) {
            return 0.0;
        }
        double sumSquares = 0.0;
        for (int k = 0; k < spec.numLayers(); k++) {
            for (int i = spec.weightOffset(k), to = spec.biasOffset(k); i < to; i++) {
                sumSquares += params[i] * params[i];
            }
        }
        return 0.5 * lambda * sumSquares;
    }

    private void checkParams(double[] params) {
        if (params == null || params.length != spec.paramCount()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + spec.paramCount()
                    + " parameters but got " + (params == null ? "null" : params.length));
        }
    }

    private void checkWorkspace(Workspace ws) {
        if (!ws.spec().equals(spec)) {
            throw new IllegalArgumentException("Workspace was built for " + ws.spec() + " but the network is " + spec);
        }
    }
}

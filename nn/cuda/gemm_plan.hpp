#pragma once
// The cuBLAS calls of the cuda backend as plain data: which buffers, transpositions, leading
// dimensions and fold strides each dense layer's three products use. Row-major matrices are
// handed to column-major cuBLAS as their transposes. Kept free of CUDA headers so that a CPU
// test (tests/nn/test_gemm_plan.cpp) runs these very calls through a plain strided-batched GEMM
// and compares the result with the reference backend.
#ifndef LSMSS_NN_INTERNAL  // defined for lsmss_nn's own sources and its tests only
#error "a header private to nn/: use nn/model.hpp, nn/first_layer.hpp or the nn/core/ API headers"
#endif
#include <vector>

#include "nn/core/network.hpp"

namespace lsmss::nn::gemm_plan {

enum class Op { none, transpose };
// What an operand points into: every buffer is fold-stacked (fold f at f * stride).
enum class Buffer { params, grads, input, activation, gradient };

struct Operand {
  Buffer buffer = Buffer::params;
  int layer = -1;        // activation / gradient: whose
  long long offset = 0;  // elements from the start of fold 0's slice
  int ld = 0;            // leading dimension (column-major)
  long long stride = 0;  // elements between folds
};

// C = op(A) op(B) + beta C, column-major m x n, inner dimension k, for every fold.
struct GemmCall {
  Op a_op = Op::none, b_op = Op::none;
  int m = 0, n = 0, k = 0;
  Operand a, b, c;
  float beta = 0.0f;
};

// The layer's input: the network input or (a block of) another layer's output.
inline Operand layer_input(const Network& net, const Layer& ly, int max_batch, Buffer which) {
  if (ly.input < 0)
    return {Buffer::input, -1, 0, net.inputs(), static_cast<long long>(max_batch) * net.inputs()};
  const int width = net.layers()[ly.input].out;
  return {which, ly.input, ly.input_offset, width, static_cast<long long>(max_batch) * width};
}

inline Operand layer_output(const Layer& ly, int l, int max_batch, Buffer which) {
  return {which, l, 0, ly.out, static_cast<long long>(max_batch) * ly.out};
}

// Forward: Z (rows x out, row-major) = X W^T, i.e. column-major Z^T = W X^T with W's buffer read
// as the column-major in x out matrix W^T.
inline GemmCall forward(const Network& net, int l, int rows, int max_batch, long long num_params) {
  const Layer& ly = net.layers()[l];
  GemmCall g;
  g.a_op = Op::transpose;
  g.m = ly.out;
  g.n = rows;
  g.k = ly.in;
  g.a = {Buffer::params, -1, static_cast<long long>(ly.w), ly.in, num_params};
  g.b = layer_input(net, ly, max_batch, Buffer::activation);
  g.c = layer_output(ly, l, max_batch, Buffer::activation);
  return g;
}

// Weight gradient: dW (out x in, row-major) = dZ^T X, i.e. column-major dW^T = X^T dZ.
inline GemmCall weight_gradient(const Network& net, int l, int rows, int max_batch,
                                long long num_params) {
  const Layer& ly = net.layers()[l];
  GemmCall g;
  g.b_op = Op::transpose;
  g.m = ly.in;
  g.n = ly.out;
  g.k = rows;
  g.a = layer_input(net, ly, max_batch, Buffer::activation);
  g.b = layer_output(ly, l, max_batch, Buffer::gradient);
  g.c = {Buffer::grads, -1, static_cast<long long>(ly.w), ly.in, num_params};
  return g;
}

// Input gradient of every layer that reads another one: dX (rows x in) = dZ W, i.e.
// column-major dX^T = W^T dZ^T, written into (a block of) the input layer's gradient. Blocks
// of a wider layer are disjoint and cover it: each overwrites its own; several layers reading
// the whole of one layer accumulate after the first (in backward order). Returns one call per
// such layer in backward order (last layer first), the others skipped.
inline std::vector<std::pair<int, GemmCall>> input_gradients(const Network& net, int rows,
                                                             int max_batch, long long num_params) {
  const auto& L = net.layers();
  std::vector<int> consumers(L.size(), 0), seen(L.size(), 0);
  for (const auto& ly : L)
    if (ly.input >= 0) ++consumers[ly.input];
  std::vector<std::pair<int, GemmCall>> calls;
  for (int l = static_cast<int>(L.size()) - 1; l >= 0; --l) {
    const Layer& ly = L[l];
    if (ly.input < 0) continue;
    const bool block = ly.in != L[ly.input].out;
    const bool first_writer = seen[ly.input]++ == 0;
    GemmCall g;
    g.m = ly.in;
    g.n = rows;
    g.k = ly.out;
    g.a = {Buffer::params, -1, static_cast<long long>(ly.w), ly.in, num_params};
    g.b = layer_output(ly, l, max_batch, Buffer::gradient);
    g.c = layer_input(net, ly, max_batch, Buffer::gradient);
    g.beta = block || first_writer ? 0.0f : 1.0f;
    calls.emplace_back(l, g);
  }
  return calls;
}

}  // namespace lsmss::nn::gemm_plan

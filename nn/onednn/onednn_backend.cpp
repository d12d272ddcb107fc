// oneDNN (2.x) CPU backend. Inner products in plain layouts read the weights straight from the
// flat parameter buffer and write gradients straight into the flat gradient buffer, so there
// is no reorder and no copy of the parameters. Forward activations are fused as eltwise
// post-ops; backward activations use the *_use_dst_for_bwd algorithms in place on the
// gradient buffer. Primitives and memories are built once per batch size and reused. Kernels
// only: the loss and the optimizer are the shared policies of nn/core/backend.hpp.
#include <omp.h>

#include <cstring>
#include <map>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.hpp"
#include "nn/core/backend.hpp"

namespace lsmss::nn {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::algorithm fwd_alg(Activation a) {
  switch (a) {
    case Activation::relu:
      return dnnl::algorithm::eltwise_relu;
    case Activation::tanh:
      return dnnl::algorithm::eltwise_tanh;
    case Activation::sigmoid:
      return dnnl::algorithm::eltwise_logistic;
    case Activation::linear:
      break;
  }
  return dnnl::algorithm::eltwise_linear;
}

dnnl::algorithm bwd_alg(Activation a) {
  switch (a) {
    case Activation::relu:
      return dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
    case Activation::tanh:
      return dnnl::algorithm::eltwise_tanh_use_dst_for_bwd;
    case Activation::sigmoid:
      return dnnl::algorithm::eltwise_logistic_use_dst_for_bwd;
    case Activation::linear:
      break;
  }
  return dnnl::algorithm::eltwise_linear;
}

memory::desc md2(int rows, int cols) {
  return memory::desc({rows, cols}, dt::f32, tag::ab);
}
memory::desc md1(int n) {
  return memory::desc({n}, dt::f32, tag::a);
}

struct LayerPlan {
  dnnl::inner_product_forward fwd;
  dnnl::eltwise_forward first_act;  // forward_from_first: activation of the given z1
  dnnl::inner_product_backward_weights bwd_w;
  dnnl::inner_product_backward_data bwd_d;
  dnnl::eltwise_backward act_bwd;
  bool has_bwd_d = false, has_act = false;
  memory src, w, b, dst, dw, db, diff_dst, diff_src;
  // Argument maps built once: executing never allocates.
  std::unordered_map<int, memory> fwd_args, first_act_args, act_bwd_args, bwd_w_args, bwd_d_args;
};

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(int threads)
      : threads_(threads), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  std::string name() const override { return "onednn"; }

  void setup(const Network& net, int max_batch) override {
    Backend::setup(net, max_batch);
    plans_.clear();
    const auto& L = net.layers();
    act_.assign(L.size(), {});
    diff_.assign(L.size(), {});
    slice_.assign(L.size(), {});
    dslice_.assign(L.size(), {});
    consumers_.assign(L.size(), 0);
    for (const auto& ly : L)
      if (ly.input >= 0) ++consumers_[ly.input];
    for (std::size_t l = 0; l < L.size(); ++l) {
      const std::size_t n = static_cast<std::size_t>(max_batch) * L[l].out;
      act_[l].assign(n, 0.0f);
      diff_[l].assign(n, 0.0f);
      if (needs_slice(L[l]) || shares_input(l)) {
        slice_[l].assign(static_cast<std::size_t>(max_batch) * L[l].in, 0.0f);
        dslice_[l].assign(slice_[l].size(), 0.0f);
      }
    }
  }

  void forward(const float* x, int batch) override {
    set_threads();
    auto& P = plan(batch);
    const auto& L = net_.layers();
    for (std::size_t l = 0; l < L.size(); ++l) {
      if (l == 0 || L[l].input < 0) P[l].src.set_data_handle(const_cast<float*>(x));
      run_fwd(P, l, batch);
    }
  }

  void forward_from_first(const float* z1, int batch) override {
    set_threads();
    auto& P = plan(batch);
    const auto& L = net_.layers();
    std::memcpy(act_[0].data(), z1, sizeof(float) * batch * L[0].out);
    if (P[0].has_act) exec_(P[0].first_act, "activation of z1", 0, P[0].first_act_args);
    for (std::size_t l = 1; l < L.size(); ++l) {
      if (L[l].input < 0)
        fail("onednn backend: forward_from_first needs a network whose first layer feeds the rest");
      run_fwd(P, l, batch);
    }
    stream_.wait();
  }

  const float* output(int head) const override { return act_[net_.output_layer(head)].data(); }

  float* output_gradient(int head) override { return diff_[net_.output_layer(head)].data(); }

  void backward(const float* x, int batch) override {
    set_threads();
    const auto& L = net_.layers();
    auto& P = plan(batch);
    std::vector<int>& pending = pending_;  // consumers of each layer still to be processed
    pending.assign(consumers_.begin(), consumers_.end());
    for (int l = static_cast<int>(L.size()) - 1; l >= 0; --l) {
      LayerPlan& p = P[l];
      if (p.has_act) exec_(p.act_bwd, "activation backward", l, p.act_bwd_args);
      if (L[l].input < 0) p.src.set_data_handle(const_cast<float*>(x));
      exec_(p.bwd_w, "inner product backward weights", l, p.bwd_w_args);
      if (!p.has_bwd_d) continue;
      exec_(p.bwd_d, "inner product backward data", l, p.bwd_d_args);
      const int in = L[l].input;
      const bool first_writer = pending[in] == consumers_[in];
      --pending[in];
      if (needs_slice(L[l])) {  // a block of the task layer: disjoint blocks cover it, so copy
        copy_block(dslice_[l].data(), L[l].in, diff_[in].data() + L[l].input_offset, L[in].out,
                   batch, L[l].in);
      } else if (shares_input(l)) {  // several output layers read the same layer: accumulate
        float* dst = diff_[in].data();
        const float* src = dslice_[l].data();
        const int n = batch * L[l].in;
        if (first_writer) {
          std::memcpy(dst, src, sizeof(float) * n);
        } else {
#pragma omp simd
          for (int k = 0; k < n; ++k) dst[k] += src[k];
        }
      }
    }
    stream_.wait();
  }

 private:
  // Output layer reading a block of a wider layer (MTL heads): needs a contiguous copy.
  bool needs_slice(const Layer& ly) const {
    return ly.input >= 0 && ly.in != net_.layers()[ly.input].out;
  }
  // Layer whose input layer has several consumers (its backward data must be accumulated).
  bool shares_input(std::size_t l) const {
    const Layer& ly = net_.layers()[l];
    return ly.input >= 0 && !needs_slice(ly) && consumers_[ly.input] > 1;
  }

  static void copy_block(const float* src, int src_stride, float* dst, int dst_stride, int rows,
                         int cols) {
    for (int r = 0; r < rows; ++r)
      std::memcpy(dst + static_cast<std::size_t>(r) * dst_stride,
                  src + static_cast<std::size_t>(r) * src_stride, sizeof(float) * cols);
  }

  void exec_(const dnnl::primitive& prim, const char* what, int layer,
             const std::unordered_map<int, memory>& args) {
    try {
      prim.execute(stream_, args);
    } catch (const dnnl::error& e) {
      fail("onednn backend: {} of layer {} ({}) failed: {}", what, layer, net_.describe(),
           e.what());
    }
  }

  void set_threads() {
    if (threads_ > 0 && omp_get_max_threads() != threads_) omp_set_num_threads(threads_);
  }

  void run_fwd(std::vector<LayerPlan>& P, std::size_t l, int batch) {
    const Layer& ly = net_.layers()[l];
    if (needs_slice(ly))
      copy_block(act_[ly.input].data() + ly.input_offset, net_.layers()[ly.input].out,
                 slice_[l].data(), ly.in, batch, ly.in);
    exec_(P[l].fwd, "inner product forward", static_cast<int>(l), P[l].fwd_args);
    if (needs_slice(ly)) stream_.wait();
  }

  // Primitives for one batch size, created on first use and kept.
  std::vector<LayerPlan>& plan(int batch) {
    if (batch < 1 || batch > max_batch_)
      fail("onednn backend: batch {} outside 1..{}", batch, max_batch_);
    auto it = plans_.find(batch);
    if (it != plans_.end()) return it->second;
    std::vector<LayerPlan> P(net_.layers().size());
    for (std::size_t l = 0; l < P.size(); ++l) {
      create_primitives(P[l], l, batch);
      bind_memories(P[l], l, batch);
    }
    return plans_.emplace(batch, std::move(P)).first->second;
  }

  // The forward, backward-weights, backward-data and activation primitives of layer l.
  void create_primitives(LayerPlan& p, std::size_t l, int batch) {
    const Layer& ly = net_.layers()[l];
    const auto src_md = md2(batch, ly.in), dst_md = md2(batch, ly.out), w_md = md2(ly.out, ly.in),
               b_md = md1(ly.out);
    dnnl::primitive_attr attr;
    p.has_act = ly.act != Activation::linear;
    if (p.has_act) {
      dnnl::post_ops po;
      po.append_eltwise(1.0f, fwd_alg(ly.act), 0.0f, 0.0f);
      attr.set_post_ops(po);
    }
    dnnl::inner_product_forward::primitive_desc fpd(
        dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_training, src_md, w_md, b_md,
                                          dst_md),
        attr, engine_);
    p.fwd = dnnl::inner_product_forward(fpd);
    dnnl::inner_product_forward::primitive_desc hint(
        dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_training, src_md, w_md, b_md,
                                          dst_md),
        engine_);
    p.bwd_w =
        dnnl::inner_product_backward_weights(dnnl::inner_product_backward_weights::primitive_desc(
            dnnl::inner_product_backward_weights::desc(src_md, w_md, b_md, dst_md), engine_, hint));
    p.has_bwd_d = ly.input >= 0;
    if (p.has_bwd_d)
      p.bwd_d = dnnl::inner_product_backward_data(dnnl::inner_product_backward_data::primitive_desc(
          dnnl::inner_product_backward_data::desc(src_md, w_md, dst_md), engine_, hint));
    if (!p.has_act) return;
    dnnl::eltwise_forward::primitive_desc efpd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, bwd_alg(ly.act), dst_md,
                                    0.0f, 0.0f),
        engine_);
    p.act_bwd = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
        dnnl::eltwise_backward::desc(bwd_alg(ly.act), dst_md, dst_md, 0.0f, 0.0f), engine_, efpd));
    if (l == 0)
      p.first_act = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, fwd_alg(ly.act), dst_md,
                                      0.0f, 0.0f),
          engine_));
  }

  // Memories straight on the flat buffers, and the argument maps built once.
  void bind_memories(LayerPlan& p, std::size_t l, int batch) {
    const Layer& ly = net_.layers()[l];
    const auto src_md = md2(batch, ly.in), dst_md = md2(batch, ly.out), w_md = md2(ly.out, ly.in),
               b_md = md1(ly.out);
    float* src_ptr = nullptr;  // network input: set per call
    if (needs_slice(ly))
      src_ptr = slice_[l].data();
    else if (ly.input >= 0)
      src_ptr = act_[ly.input].data();
    p.src = memory(src_md, engine_, src_ptr ? static_cast<void*>(src_ptr) : DNNL_MEMORY_NONE);
    p.w = memory(w_md, engine_, params_.data() + ly.w);
    p.b = memory(b_md, engine_, params_.data() + ly.b);
    p.dst = memory(dst_md, engine_, act_[l].data());
    p.dw = memory(w_md, engine_, grads_.data() + ly.w);
    p.db = memory(b_md, engine_, grads_.data() + ly.b);
    p.diff_dst = memory(dst_md, engine_, diff_[l].data());
    if (p.has_bwd_d) {
      float* ds = (needs_slice(ly) || shares_input(l)) ? dslice_[l].data() : diff_[ly.input].data();
      p.diff_src = memory(src_md, engine_, ds);
      p.bwd_d_args = {{DNNL_ARG_DIFF_DST, p.diff_dst},
                      {DNNL_ARG_WEIGHTS, p.w},
                      {DNNL_ARG_DIFF_SRC, p.diff_src}};
    }
    // dnnl::memory copies share one object, so set_data_handle on p.src reaches the maps.
    p.fwd_args = {{DNNL_ARG_SRC, p.src},
                  {DNNL_ARG_WEIGHTS, p.w},
                  {DNNL_ARG_BIAS, p.b},
                  {DNNL_ARG_DST, p.dst}};
    p.first_act_args = {{DNNL_ARG_SRC, p.dst}, {DNNL_ARG_DST, p.dst}};
    p.act_bwd_args = {
        {DNNL_ARG_DST, p.dst}, {DNNL_ARG_DIFF_DST, p.diff_dst}, {DNNL_ARG_DIFF_SRC, p.diff_dst}};
    p.bwd_w_args = {{DNNL_ARG_SRC, p.src},
                    {DNNL_ARG_DIFF_DST, p.diff_dst},
                    {DNNL_ARG_DIFF_WEIGHTS, p.dw},
                    {DNNL_ARG_DIFF_BIAS, p.db}};
  }

  int threads_ = 0;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::map<int, std::vector<LayerPlan>> plans_;
  std::vector<std::vector<float>> act_, diff_, slice_, dslice_;
  std::vector<int> consumers_, pending_;
};

}  // namespace

std::unique_ptr<Backend> make_onednn_backend(int threads) {
  return std::make_unique<OnednnBackend>(threads);
}

}  // namespace lsmss::nn

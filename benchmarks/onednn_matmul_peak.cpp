// The ceiling the CPU device's matrix products can reach here: oneDNN's matmul alone, on one [M, K] x
// [K, N] product with packed weights, timed over 200 runs. BENCHMARKS.md compares the models' matmul
// time with it.
//
//   build/onednn_matmul_peak M K N [f32|bf16]        (threads: OMP_NUM_THREADS, default all cores)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dnnl.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s M K N [f32|bf16]\n", argv[0]);
    return 2;
  }
  using dnnl::memory;
  const memory::dim m = std::atol(argv[1]), k = std::atol(argv[2]), n = std::atol(argv[3]);
  const bool bf16 = argc > 4 && std::string(argv[4]) == "bf16";
  const auto type = bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::desc a({m, k}, type, memory::format_tag::ab);
  const memory::desc b({k, n}, type, memory::format_tag::any);
  const memory::desc c({m, n}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), engine);
  const dnnl::matmul matmul(pd);
  std::vector<char> a_data(a.get_size()), b_data(pd.weights_desc().get_size()), c_data(c.get_size());
  const std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, memory(a, engine, a_data.data())},
                                                {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), engine, b_data.data())},
                                                {DNNL_ARG_DST, memory(c, engine, c_data.data())}};
  std::vector<double> seconds;
  for (int i = 0; i < 200; ++i) {
    const auto start = std::chrono::steady_clock::now();
    matmul.execute(stream, args);
    stream.wait();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double flop = 2.0 * m * k * n;
  std::printf("%s %s M=%ld K=%ld N=%ld: best %.3f ms (%.0f GFLOP/s), median %.3f ms (%.0f GFLOP/s)\n",
              pd.impl_info_str(), bf16 ? "bf16" : "f32", m, k, n, seconds[0] * 1e3, flop / seconds[0] / 1e9,
              seconds[100] * 1e3, flop / seconds[100] / 1e9);
  return 0;
}

// The `sluice` command-line tool: devices, model info, one inference, benchmarks, the ONNX conformance
// suite.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/error.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/tool_util.hpp"

namespace {

using sluice::tool::BenchOptions;
using sluice::tool::ConformanceOptions;
using sluice::tool::InfoOptions;
using sluice::tool::RunOptions;

void add_info_options(CLI::App& app, InfoOptions& options) {
  app.add_option("MODEL", options.model_path, "the ONNX model file (default: the built-in model)");
  app.add_option("-d,--device", options.devices,
                 "a device whose kernel per operator to show, repeatable (default: CPU and REF); not "
                 "comma-separated, as MULTI:CPU,REF is one device")
      ->type_name("DEV");
  app.add_option("-s,--shape", options.shapes,
                 "NAME=DIMS: the shape to plan a dynamic input with (dynamic dimensions not given: 1)")
      ->type_name("NAME=DIMS");
}

void add_run_options(CLI::App& app, RunOptions& options) {
  app.add_option("MODEL", options.model_path, "the ONNX model file (default: the built-in model)");
  app.add_option("-d,--device", options.device, "the device (default: CPU if available, else REF)");
  app.add_option("-i,--input", options.inputs,
                 "NAME=FILE.npy: an input's data (f32 files are accepted for bf16 inputs; inputs not given "
                 "get seeded random data: reals in [-1, 1], integers in [0, 9], booleans)")
      ->type_name("NAME=FILE");
  app.add_option("-s,--shape", options.shapes,
                 "NAME=DIMS: a static shape for an input with dynamic dimensions, e.g. x=1,3,224,224")
      ->type_name("NAME=DIMS");
  app.add_option("-o,--output-dir", options.output_dir, "write each output to DIR/<output name>.npy")
      ->type_name("DIR");
  app.add_option("--seed", options.seed, "seed of the random input data")->default_val(0);
  app.add_option("-p,--property", options.properties, "KEY=VALUE: a compile property, e.g. NUM_STREAMS=2")
      ->type_name("KEY=VALUE");
  app.add_flag("--profile", options.profile,
               "compile with ENABLE_PROFILING and print the per-node times of the inference, longest first");
}

// benchmark_app spells its long options with one dash (-niter 100); CLI11 wants two for names longer than
// one letter, so in `sluice bench ...` these are rewritten to --niter etc. before parsing (both spellings
// work). Only the names below, and only after `bench` as the subcommand, so nothing else is touched.
constexpr std::array<std::string_view, 12> bench_long_options = {
    "niter", "shape", "nthreads", "nstreams", "nireq", "infer_precision",
    "hint",  "api",   "pc",       "json",     "seed",  "time"};

std::vector<std::string> with_bench_long_options(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 2 || args[1] != "bench") return args;
  for (auto it = args.begin() + 2; it != args.end(); ++it) {
    if (it->size() < 3 || (*it)[0] != '-' || (*it)[1] == '-') continue;
    std::string_view name = std::string_view(*it).substr(1, it->find('=') - 1);
    if (std::find(bench_long_options.begin(), bench_long_options.end(), name) != bench_long_options.end()) {
      it->insert(0, "-");
    }
  }
  return args;
}

// The whole text as an integer, or nothing.
std::optional<long long> parse_integer(const std::string& text) {
  size_t used = 0;
  try {
    const long long value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// An integer of at least `minimum`, with a plain message (CLI11's ranges print their huge upper bounds,
// and its conversion error does not say what was expected).
CLI::Validator at_least(int64_t minimum) {
  std::string bound = std::to_string(minimum);
  return CLI::Validator(
      [minimum, bound](std::string& text) -> std::string {
        const auto value = parse_integer(text);
        if (!value || *value < minimum) return "expected an integer >= " + bound + ", got '" + text + "'";
        return {};
      },
      ">=" + bound);
}

void add_bench_options(CLI::App& app, BenchOptions& options) {
  app.add_option("-m,--model", options.model_path, "the ONNX model file (default: the built-in model)")
      ->type_name("MODEL");
  app.add_option("-d,--device", options.device, "the device (default: CPU if available, else REF)");
  app.add_option("--niter", options.niter, "measured inferences (after one warm-up inference)")
      ->type_name("N")
      ->check(at_least(1));
  app.add_option("-t,--time", options.time_s,
                 "seconds of measured inferences (default 10 when -niter is not given; with both, whichever "
                 "ends first)")
      ->type_name("SECONDS")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return CLI::PositiveNumber(text).empty() ? std::string()
                                                     : "expected seconds > 0, got '" + text + "'";
          },
          ">0"));
  app.add_option("-b,--batch", options.batch, "set dimension 0 of every input (Model::reshape_batch)")
      ->type_name("BATCH")
      ->check(at_least(1));
  // Each value is kept whole: bound to a vector, CLI11 would split "[1,3,224,224]" into its numbers.
  app.add_option("--shape",
                 "input shapes: NAME[DIMS] or [DIMS] (every input), several separated by ',', e.g. "
                 "input[1,3,224,224]; dimensions still dynamic become 1")
      ->each([&options](const std::string& value) { options.shapes.push_back(value); })
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->type_name("SHAPES");
  app.add_option("--nthreads", options.nthreads, "INFERENCE_NUM_THREADS")->type_name("N")->check(at_least(0));
  // A transform, not a check: it also writes AUTO in capitals, as the property spells it.
  app.add_option("--nstreams", options.nstreams, "NUM_STREAMS: a count >= 1, or AUTO (the device chooses)")
      ->type_name("N|AUTO")
      ->transform(CLI::Validator(
          [](std::string& text) -> std::string {
            std::string upper = text;
            for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (upper == "AUTO") {
              text = upper;
              return {};
            }
            const auto value = parse_integer(text);
            if (!value || *value < 1) return "expected a count >= 1 or AUTO, got '" + text + "'";
            return {};
          },
          ""));
  app.add_option("--nireq", options.nireq,
                 "infer requests in flight (async) or application threads (sync); 0 or absent: the compiled "
                 "model's OPTIMAL_NUMBER_OF_INFER_REQUESTS for async, 1 for sync")
      ->type_name("N")
      ->check(at_least(0));
  app.add_option("--infer_precision", options.infer_precision, "INFERENCE_PRECISION_HINT: f32 or bf16")
      ->check(CLI::IsMember({"f32", "bf16"}));
  app.add_option("--hint", options.hint,
                 "PERFORMANCE_HINT: latency, throughput, cumulative_throughput, or none (not set); several "
                 "separated by ',' run once each and are compared (default: throughput for -api async, "
                 "latency for sync)")
      ->type_name("HINT[,HINT...]");
  app.add_option("--api", options.api,
                 "async (default: -nireq requests, each restarted from its callback) or sync (-nireq "
                 "threads, each calling infer() in a loop)")
      ->check(CLI::IsMember({"sync", "async"}));
  app.add_flag("--pc", options.profile,
               "compile with ENABLE_PROFILING and print the per-node times of the last inference");
  app.add_option("--json", options.json_path, "write the results as JSON to FILE")->type_name("FILE");
  app.add_option("-p,--property", options.properties, "KEY=VALUE: a further compile property")
      ->type_name("KEY=VALUE");
  app.add_option("--seed", options.seed, "seed of the random input data")->default_val(0);
  app.add_flag("--sweep", options.sweep,
               "measure NUM_STREAMS 1, 2, 4, ... up to the cores and 2x the cores, each with 1, 2 and 4 "
               "requests per stream, for -t seconds each (default 3), and the -hint's configuration; print "
               "a table and write an HTML chart (--sweep-html)");
  app.add_option("--sweep-batch", options.sweep_batch, "--sweep: also sweep these batch sizes, e.g. 1,4")
      ->type_name("B[,B...]");
  app.add_option("--sweep-streams", options.sweep_streams,
                 "--sweep: these NUM_STREAMS values instead, e.g. 1,2")
      ->type_name("S[,S...]");
  app.add_option("--sweep-timeouts", options.sweep_timeouts,
                 "--sweep on a BATCH device: these AUTO_BATCH_TIMEOUT values (ms) instead of 1,5,20,100; its "
                 "grid is timeouts x requests (1, 2 and 4 batches, and OPTIMAL_NUMBER_OF_INFER_REQUESTS)")
      ->type_name("MS[,MS...]");
  app.add_option("--sweep-html", options.sweep_html, "--sweep: the HTML report to write")
      ->type_name("FILE")
      ->default_val("sluice-sweep.html");
  app.add_option(
         "--sim-device", options.sim_device,
         "register SIM, a simulated accelerator for benchmarking MULTI/AUTO (benchmark only: it does "
         "not compute, its outputs are zeros): each inference ends SERVICE_MS after it starts, up to "
         "CONCURRENCY (default 1) at once, without using the CPU; e.g. --sim-device 5:4 -d MULTI:CPU,SIM")
      ->type_name("SERVICE_MS[:CONCURRENCY]");
}

void add_conformance_options(CLI::App& app, ConformanceOptions& options) {
  app.add_option("DIR", options.tests_dir, "folder of test_* cases (onnx/backend/test/data/node)")
      ->required();
  app.add_option("-d,--device", options.device, "the device (default: CPU if available, else REF)");
  app.add_option("--filter", options.filter, "run only cases whose folder name matches this regex");
  app.add_option("--json", options.json_path, "write the results as JSON to FILE")->type_name("FILE");
  app.add_option("--expectations", options.expectations_path,
                 "FILE listing in-scope cases expected to fail, one per line: 'test_name  # reason'; "
                 "the exit code then says whether the results match it")
      ->type_name("FILE");
  app.add_option("-j,--jobs", options.jobs, "cases run at once")->default_val(1)->check(CLI::Range(1, 256));
}

int run_selected(const CLI::App& app, const InfoOptions& info, const RunOptions& run,
                 const BenchOptions& bench, const ConformanceOptions& conformance) {
  if (app.got_subcommand("devices")) return sluice::tool::run_devices_command();
  if (app.got_subcommand("info")) return sluice::tool::run_info_command(info);
  if (app.got_subcommand("run")) return sluice::tool::run_run_command(run);
  if (app.got_subcommand("bench")) return sluice::tool::run_bench_command(bench);
  return sluice::tool::run_conformance_command(conformance);
}

// Parses the command line and runs the subcommand; exceptions other than CLI11's escape to main.
int run_main(int argc, char** argv) {
  CLI::App app{"sluice: runs ONNX models with the Sluice inference runtime"};
  app.name("sluice");
  app.require_subcommand(1, 1);
  app.add_subcommand("devices", "list the available devices with their properties");
  InfoOptions info;
  add_info_options(
      *app.add_subcommand(
          "info", "show a model's inputs, outputs and operators, and which each device runs natively"),
      info);
  RunOptions run;
  add_run_options(*app.add_subcommand("run", "run one inference of a model and summarize the outputs"), run);
  BenchOptions bench;
  add_bench_options(
      *app.add_subcommand("bench",
                          "measure inference latency and throughput, in the manner of OpenVINO's "
                          "benchmark_app (its one-dash options work: -niter, -shape, -pc, ...)"),
      bench);
  ConformanceOptions conformance;
  add_conformance_options(
      *app.add_subcommand("conformance", "run the ONNX backend node tests of a folder on a device"),
      conformance);
  std::vector<std::string> args = with_bench_long_options(argc, argv);
  std::vector<char*> arg_pointers;
  arg_pointers.reserve(args.size());
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  try {
    app.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    sluice::tool::print_error(std::string(e.what()) + " (run 'sluice --help' for usage)");
    return 2;
  }
  return run_selected(app, info, run, bench, conformance);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    sluice::tool::print_error(e.what());
  } catch (...) {
    sluice::tool::print_error("unknown exception");
  }
  return 1;
}

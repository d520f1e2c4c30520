// The `sluice` command-line tool: devices, model info, one inference, the ONNX conformance suite.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "sluice/error.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/tool_util.hpp"

namespace {

using sluice::tool::ConformanceOptions;
using sluice::tool::InfoOptions;
using sluice::tool::RunOptions;

void add_info_options(CLI::App& app, InfoOptions& options) {
  app.add_option("MODEL", options.model_path, "the ONNX model file")->required();
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
                 const ConformanceOptions& conformance) {
  if (app.got_subcommand("devices")) return sluice::tool::run_devices_command();
  if (app.got_subcommand("info")) return sluice::tool::run_info_command(info);
  if (app.got_subcommand("run")) return sluice::tool::run_run_command(run);
  return sluice::tool::run_conformance_command(conformance);
}

// Parses the command line and runs the subcommand; exceptions other than CLI11's escape to main.
int run_main(int argc, char** argv) {
  CLI::App app{"sluice: runs ONNX models with the Sluice inference runtime"};
  app.name("sluice");
  app.require_subcommand(1, 1);
  app.add_subcommand("devices", "list the available devices with their properties");
  InfoOptions info;
  add_info_options(*app.add_subcommand("info", "show a model's inputs, outputs and operators"), info);
  RunOptions run;
  add_run_options(*app.add_subcommand("run", "run one inference of a model and summarize the outputs"), run);
  ConformanceOptions conformance;
  add_conformance_options(
      *app.add_subcommand("conformance", "run the ONNX backend node tests of a folder on a device"),
      conformance);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    sluice::tool::print_error(std::string(e.what()) + " (run 'sluice --help' for usage)");
    return 2;
  }
  return run_selected(app, info, run, conformance);
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

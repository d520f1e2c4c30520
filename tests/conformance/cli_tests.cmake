# Tests of the sluice command-line tool (label cli), on the small models and .npy files of cli/ (made by
# cli/make_cli_data.py) and on the built-in default model. Each runs cli/check_cli.cmake.
set(cli_data ${CMAKE_CURRENT_SOURCE_DIR}/cli)
set(cli_out ${CMAKE_CURRENT_BINARY_DIR}/cli_out)

# sluice_cli_test(NAME EXPECT success|failure|error ARGS a b ... [MATCH regex] [FILES f ...]
#                 [SAME produced expected] [CLEAN folder] [FILE_MATCH "file|regex"])
function(sluice_cli_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXPECT;MATCH;CLEAN;FILE_MATCH" "ARGS;FILES;SAME")
  list(JOIN arg_ARGS "|" joined_args)
  set(defines -DSLUICE=$<TARGET_FILE:sluice_cli> "-DARGS=${joined_args}" -DEXPECT=${arg_EXPECT})
  if(DEFINED arg_MATCH)
    list(APPEND defines "-DMATCH=${arg_MATCH}")
  endif()
  if(DEFINED arg_FILES)
    list(JOIN arg_FILES "|" joined_files)
    list(APPEND defines "-DFILES=${joined_files}")
  endif()
  if(DEFINED arg_SAME)
    list(JOIN arg_SAME "|" joined_same)
    list(APPEND defines "-DSAME=${joined_same}")
  endif()
  if(DEFINED arg_CLEAN)
    list(APPEND defines "-DCLEAN=${arg_CLEAN}")
  endif()
  if(DEFINED arg_FILE_MATCH)
    list(APPEND defines "-DFILE_MATCH=${arg_FILE_MATCH}")
  endif()
  add_test(NAME cli_${name} COMMAND ${CMAKE_COMMAND} ${defines} -P ${cli_data}/check_cli.cmake)
  set_tests_properties(cli_${name} PROPERTIES LABELS cli TIMEOUT 300)
endfunction()

sluice_cli_test(run_default EXPECT success ARGS run -d REF -o ${cli_out}/default
                MATCH "output output: f32 \\[1,1000\\]" FILES ${cli_out}/default/output.npy
                CLEAN ${cli_out}/default)
sluice_cli_test(run_given_inputs EXPECT success
                ARGS run ${cli_data}/add.onnx -d REF -i x=${cli_data}/x.npy -i y=${cli_data}/y.npy
                     -o ${cli_out}/add
                MATCH "output out/sum: f32 \\[2,3\\] min 1.5 max 36"
                SAME ${cli_out}/add/out_sum.npy ${cli_data}/expected_sum.npy CLEAN ${cli_out}/add)
sluice_cli_test(run_dynamic_from_inputs EXPECT success
                ARGS run ${cli_data}/dyn_add.onnx -d REF -i x=${cli_data}/x.npy -i y=${cli_data}/y.npy
                     -o ${cli_out}/dyn
                SAME ${cli_out}/dyn/out_sum.npy ${cli_data}/expected_sum.npy CLEAN ${cli_out}/dyn)
sluice_cli_test(run_dynamic_with_shape EXPECT success
                ARGS run ${cli_data}/dyn_add.onnx -d REF -s x=4,3 -s y=[4,3] --seed 7
                MATCH "output out/sum: f32 \\[4,3\\]")
sluice_cli_test(run_dynamic_without_shape EXPECT error ARGS run ${cli_data}/dyn_add.onnx -d REF
                MATCH "dynamic shape.*-s x=DIMS")
sluice_cli_test(run_missing_model EXPECT error ARGS run ${cli_data}/no_such_model.onnx -d REF
                MATCH "no_such_model.onnx")
sluice_cli_test(run_unknown_device EXPECT error ARGS run ${cli_data}/add.onnx -d NO_SUCH_DEVICE
                MATCH "NO_SUCH_DEVICE")
sluice_cli_test(run_unknown_input EXPECT error ARGS run ${cli_data}/add.onnx -d REF -i z=${cli_data}/x.npy
                MATCH "no input 'z' \\(inputs: 'x', 'y'\\)")
sluice_cli_test(run_input_wrong_shape EXPECT error
                ARGS run ${cli_data}/add.onnx -d REF -i x=${cli_data}/x_3x2.npy
                MATCH "x_3x2.npy: the file's shape \\[3,2\\] does not fit input 'x' of shape \\[2,3\\]")
sluice_cli_test(run_input_wrong_dtype EXPECT error
                ARGS run ${cli_data}/add.onnx -d REF -i x=${cli_data}/x_f64.npy
                MATCH "x_f64.npy: the file holds f64 data, input 'x' expects f32")
sluice_cli_test(run_input_not_npy EXPECT error ARGS run ${cli_data}/add.onnx -d REF -i x=${cli_data}/add.onnx
                MATCH "add.onnx: not a .npy file")
sluice_cli_test(run_bad_property_value EXPECT error ARGS run ${cli_data}/add.onnx -d REF -p NUM_STREAMS=many
                MATCH "NUM_STREAMS")
sluice_cli_test(run_unknown_property EXPECT error ARGS run ${cli_data}/add.onnx -d REF -p NO_SUCH_PROPERTY=1
                MATCH "NO_SUCH_PROPERTY")
sluice_cli_test(run_property_without_value EXPECT error ARGS run ${cli_data}/add.onnx -d REF -p NUM_STREAMS
                MATCH "-p 'NUM_STREAMS': expected KEY=VALUE")
sluice_cli_test(unknown_option EXPECT error ARGS run --no-such-option MATCH "no-such-option")
sluice_cli_test(no_subcommand EXPECT error ARGS "" MATCH "subcommand")
sluice_cli_test(info EXPECT success ARGS info ${cli_data}/add.onnx
                MATCH "x: f32 \\[2,3\\].*out/sum: f32 \\[2,3\\].*1 Add")
sluice_cli_test(devices EXPECT success ARGS devices MATCH "REF\n  FULL_DEVICE_NAME: ")
# sluice info's kernels per device (the CPU's EXECUTION_KERNELS; REF: the reference interpreter). Kernel
# names are not matched where they depend on the machine's ISA.
sluice_cli_test(info_kernels_default EXPECT success ARGS info
                MATCH "\nCPU: [0-9]+ planned nodes, [0-9]+ native, 0 on the reference kernel \\(fallback\\)\n\
[^\n]*operator  nodes  native  fallback  kernels\n +FusedConv +26 +26 +0  [^\n]+\n.*\n\
REF: reference interpreter, every operator native[^\n]*\n[^\n]*\n +Conv +26 +26 +0  ref\n")
sluice_cli_test(info_kernels_dynamic EXPECT success ARGS info ${cli_data}/dyn_add.onnx -s x=4,3 -d CPU
                MATCH "note: input 'y' \\[n,3\\] is planned as \\[1,3\\] .*\n\
 +Add +1 +1 +0  sluice:binary\n$")
sluice_cli_test(info_kernels_virtual EXPECT success ARGS info ${cli_data}/add.onnx -d BATCH:CPU
                MATCH "\nBATCH:CPU: does not report its own kernels; it runs on CPU \\(ask those with \
-d\\)\n$")
sluice_cli_test(info_kernels_unknown_device EXPECT failure
                ARGS info ${cli_data}/add.onnx -d NO_SUCH_DEVICE -d REF
                MATCH "\nNO_SUCH_DEVICE: cannot compile the model: [^\n]*NO_SUCH_DEVICE.*\n\
REF: reference interpreter")
sluice_cli_test(info_shape_unknown_input EXPECT error ARGS info ${cli_data}/add.onnx -s z=1
                MATCH "-s: the model has no input 'z' \\(inputs: 'x', 'y'\\)")
# Ops the CPU has no kernel for run on the reference kernel, as do If/Loop/Scan (their bodies with them).
if(EXISTS ${SLUICE_ONNX_TESTS_DIR}/test_cumsum_1d AND EXISTS ${SLUICE_ONNX_TESTS_DIR}/test_if)
  sluice_cli_test(info_kernels_fallback EXPECT success
                  ARGS info ${SLUICE_ONNX_TESTS_DIR}/test_cumsum_1d/model.onnx -d CPU -d REF
                  MATCH "\nCPU: 1 planned nodes, 0 native, 1 on the reference kernel \\(fallback\\)\n\
 +operator  nodes  native  fallback  kernels\n +CumSum +1 +0 +1  ref\n\
REF: reference interpreter[^\n]*\n[^\n]*\n +CumSum +1 +1 +0  ref\n$")
  sluice_cli_test(info_kernels_subgraph EXPECT success
                  ARGS info ${SLUICE_ONNX_TESTS_DIR}/test_if/model.onnx -d CPU
                  MATCH "\n +If +1 +0 +1  ref\n$")
endif()

# Strings and sequences: random inputs, summaries, and a sequence output written item by item.
if(EXISTS ${SLUICE_ONNX_TESTS_DIR}/test_string_concat AND EXISTS ${SLUICE_ONNX_TESTS_DIR}/test_sequence_insert_at_back)
  sluice_cli_test(run_strings EXPECT success
                  ARGS run ${SLUICE_ONNX_TESTS_DIR}/test_string_concat/model.onnx -d CPU
                  MATCH "input x: string \\[2\\] \\(random\\)\ninput y: string \\[2\\] \\(random\\)\n\
output result: string \\[2\\] values \\[\"s[0-9]s[0-9]\", \"s[0-9]s[0-9]\"\\]\n")
  set(seq_model ${SLUICE_ONNX_TESTS_DIR}/test_sequence_insert_at_back/model.onnx)
  sluice_cli_test(run_sequence EXPECT success
                  ARGS run ${seq_model} -d CPU -s sequence=2 -o ${cli_out}/seq
                  MATCH "input sequence: sequence of 2 i64 tensors \\(random\\)\n.*\
output output_sequence: sequence of 3 tensors: \\[0\\] \\[2\\] [^;]*; \\[1\\] \\[2\\] [^;]*; \\[2\\] \\[3\\]"
                  FILES ${cli_out}/seq/output_sequence_0.npy ${cli_out}/seq/output_sequence_2.npy
                  CLEAN ${cli_out}/seq)
  sluice_cli_test(run_sequence_from_npy EXPECT error
                  ARGS run ${seq_model} -d REF -i sequence=${cli_data}/x.npy
                  MATCH "input 'sequence' is a sequence, which a .npy file cannot hold")
  sluice_cli_test(info_sequence_ports EXPECT success ARGS info ${seq_model} -s sequence=2
                  MATCH "inputs \\(2\\):\n  sequence: sequence of i64 \\[\\.\\.\\.\\]\n  tensor: i64 \\[3\\]\n")
endif()

# The conformance runner on cli/cases, a miniature suite made to pass, fail and skip in known ways.
set(cases ${cli_data}/cases)
sluice_cli_test(conformance_as_expected EXPECT success
                ARGS conformance ${cases} -d REF --expectations ${cli_data}/cases.expected
                     --json ${cli_out}/cases.json -j 3
                MATCH "^PASS test_bf16_as_uint16\n\
FAIL test_broken_model: model.onnx: not a valid ONNX model[^\n]*\n\
SKIP test_complex_skip: input 'x' has complex64 elements\n\
SKIP test_float4_skip: input 'x' has float4 \\(FLOAT4E2M1\\) elements\n\
FAIL test_identity_beyond_tolerance: output 'y': 1 of 2 values differ \\(rtol 0.001, atol 1e-07\\). first at \
\\[0\\]: got 1000, expected 1001.5\nPASS test_identity_exact\nFAIL test_identity_inf_sign: [^\n]*got inf, \
expected -inf\nFAIL test_identity_int_exact: [^\n]*got 5, expected 6\nFAIL test_identity_nan_vs_number: \
[^\n]*got nan, expected 0\nPASS test_identity_within_tolerance\nFAIL test_identity_wrong_shape: output 'y': \
shape \\[2,2\\], expected \\[4\\]\n\
PASS test_sequence_construct\nPASS test_string_identity\n\
SKIP test_training_skip: the model uses the ai.onnx.preview.training domain\n\
5 passed, 6 failed, 3 skipped\n$"
                FILE_MATCH "${cli_out}/cases.json|\"failed\": 6,.*\"passed\": 5,.*\"skipped\": 3"
                CLEAN ${cli_out}/cases.json)
sluice_cli_test(conformance_unexpected EXPECT failure
                ARGS conformance ${cases} -d REF --expectations ${cli_data}/cases_stale.expected
                MATCH "\nUNEXPECTED PASS test_identity_exact\n\
UNEXPECTED FAIL test_identity_int_exact: [^\n]*\n\
note: test_training_skip is listed as expected to fail but is out of scope\n\
note: test_gone is listed but is not a case of the folder\n5 passed, 6 failed, 3 skipped\n$")
sluice_cli_test(conformance_failures_without_expectations EXPECT failure ARGS conformance ${cases} -d REF
                MATCH "\n5 passed, 6 failed, 3 skipped\n$")
sluice_cli_test(conformance_filter EXPECT success
                ARGS conformance ${cases} -d REF --filter "^test_identity_[ew][xi][at]"
                MATCH "^PASS test_identity_exact\nPASS test_identity_within_tolerance\n\
2 passed, 0 failed, 0 skipped\n$")
sluice_cli_test(conformance_missing_expectations EXPECT error
                ARGS conformance ${cases} -d REF --expectations ${cli_data}/no_such.expected
                MATCH "no_such.expected: cannot open the expectations file")
sluice_cli_test(conformance_missing_folder EXPECT error ARGS conformance ${cli_data}/no_such_folder -d REF
                MATCH "no_such_folder: no such directory")

# sluice run --profile, and sluice bench on REF and CPU (every build has both). Each bench test runs for
# well under 10 s: -niter keeps the counts small, the sweep runs 0.1 s per configuration.
sluice_cli_test(run_profile EXPECT success ARGS run -d REF --profile
                MATCH "\nnode +op type +exec type +time \\(ms\\) +% total\n[^\n]+ ref +[0-9]+\\.[0-9]+ +[0-9]+\\.[0-9]%\n\
.*\ntotal \\([0-9]+ nodes\\) +[0-9]+\\.[0-9]+ +100\\.0%\n$")
sluice_cli_test(bench_json EXPECT success ARGS bench -d REF -hint latency -niter 2 --json ${cli_out}/bench.json
                MATCH "\nCount: +2 iterations\n.*\nThroughput: +[0-9.]+ FPS"
                FILE_MATCH "${cli_out}/bench.json|^\\{\n  \"throughput_fps\": [0-9.e+-]+,\n  \"count\": 2,\n\
  \"duration_ms\": [0-9.e+-]+,\n  \"latency_ms\": \\{\n    \"median\": [0-9.e+-]+,\n    \"average\": [0-9.e+-]+,\n\
    \"min\": [0-9.e+-]+,\n    \"max\": [0-9.e+-]+,\n    \"p90\": [0-9.e+-]+,\n    \"p99\": [0-9.e+-]+\n  \\},\n\
  \"first_inference_ms\": [0-9.e+-]+,\n.*\n  \"peak_rss_kb\": [1-9][0-9]*,\n  \"model\": \"[^\"]+\",\n\
  \"device\": \"REF\",\n  \"api\": \"async\",\n  \"hint\": \"LATENCY\",\n  \"nireq\": 1,\n.*\n  \"batch\": 1,\n.*\n\
  \"properties\": \\{\n.*\n    \"NUM_STREAMS\": \"1\",\n(.*\n)?    \"OPTIMAL_NUMBER_OF_INFER_REQUESTS\": \"1\",\n\
    \"PERFORMANCE_HINT\": \"LATENCY\",\n.*\n  \\}\n\\}\n$"
                CLEAN ${cli_out}/bench.json)
sluice_cli_test(bench_shapes_and_profile EXPECT success
                ARGS bench -m ${cli_data}/dyn_add.onnx -d REF -niter 3 -shape [2,5] -b 4 -pc -hint latency
                MATCH "\ninput x: f32 \\[4,5\\] [^\n]*\ninput y: f32 \\[4,5\\] .*\nmeasuring: async API, 1 request, \
batch 4, 3 iterations\nCount: +3 iterations\n.*\nprofile of the last inference:\n\
node +op type +exec type +time \\(ms\\) +% total\nadd +Add +ref +[0-9.]+ +100\\.0%\ntotal \\(1 nodes\\) ")
sluice_cli_test(bench_dynamic_dims_become_1 EXPECT success
                ARGS bench -m ${cli_data}/dyn_add.onnx -d REF -niter 1 -t 60
                MATCH "note: input 'x' \\[n,3\\]: dynamic dimensions set to 1.*\ninput x: f32 \\[1,3\\] .*\
1 iterations or 60 s, whichever comes first\nCount: +1 iterations\n")
# -api async is the default, with -nireq from OPTIMAL_NUMBER_OF_INFER_REQUESTS and -hint throughput; -niter
# counts inferences over all requests.
sluice_cli_test(bench_async_default EXPECT success ARGS bench -d CPU -niter 20
                MATCH "note: -hint not given: PERFORMANCE_HINT THROUGHPUT .*\n  PERFORMANCE_HINT: THROUGHPUT\n.*\
\nmeasuring: async API, [1-9][0-9]* requests?, batch 1, 20 iterations\nCount: +20 iterations\n")
sluice_cli_test(bench_async_streams_json EXPECT success
                ARGS bench -d CPU -nstreams 2 -nireq 4 -niter 16 --json ${cli_out}/bench_async.json
                MATCH "\nmeasuring: async API, 4 requests, batch 1, 16 iterations\nCount: +16 iterations\n"
                FILE_MATCH "${cli_out}/bench_async.json|^\\{\n  \"throughput_fps\": [0-9.e+-]+,\n  \"count\": 16,\n\
  \"duration_ms\": [0-9.e+-]+,\n  \"latency_ms\": \\{\n    \"median\": [0-9.e+-]+,\n    \"average\": [0-9.e+-]+,\n\
    \"min\": [0-9.e+-]+,\n    \"max\": [0-9.e+-]+,\n    \"p90\": [0-9.e+-]+,\n    \"p99\": [0-9.e+-]+\n  \\},\n\
  \"first_inference_ms\": [0-9.e+-]+,\n.*\n  \"device\": \"CPU\",\n  \"api\": \"async\",\n\
  \"hint\": \"THROUGHPUT\",\n  \"nstreams\": \"2\",\n  \"nireq\": 4,\n  \"requests\": 4,\n  \"batch\": 1,\n.*\n\
  \"properties\": \\{\n.*\n    \"INFERENCE_NUM_THREADS\": \"[1-9][0-9]*\",\n    \"INFERENCE_PRECISION_HINT\": \"f32\",\n\
.*\n    \"NUM_STREAMS\": \"2\",\n.*\n    \"OPTIMAL_NUMBER_OF_INFER_REQUESTS\": \"[1-9][0-9]*\",\n.*\n\
    \"PERFORMANCE_HINT\": \"THROUGHPUT\",\n.*\n  \\}\n\\}\n$"
                CLEAN ${cli_out}/bench_async.json)
sluice_cli_test(bench_nstreams_auto EXPECT success ARGS bench -d CPU -nstreams auto -nireq 2 -niter 4
                MATCH "\n  NUM_STREAMS: [1-9][0-9]*\n.*\nmeasuring: async API, 2 requests, batch 1, 4 iterations\n")
sluice_cli_test(bench_sync_threads EXPECT success ARGS bench -d CPU -api sync -nireq 2 -niter 6
                MATCH "PERFORMANCE_HINT LATENCY \\(benchmark_app's default for -api sync.*\
\nmeasuring: sync API, 2 requests, batch 1, 6 iterations\nCount: +6 iterations\n")
sluice_cli_test(bench_hints_side_by_side EXPECT success
                ARGS bench -d CPU -hint latency,throughput -niter 8 --json ${cli_out}/bench_hints.json
                MATCH "\n=== -hint latency ===\n.*\n  PERFORMANCE_HINT: LATENCY\n.*\nCount: +8 iterations\n.*\
\n=== -hint throughput ===\n.*\n  PERFORMANCE_HINT: THROUGHPUT\n.*\nCount: +8 iterations\n.*\nsummary [^\n]*\n\
hint +NUM_STREAMS +INFERENCE_NUM_THREADS +requests +FPS +median ms +p90 ms +p99 ms\n\
LATENCY +1 +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+\n\
THROUGHPUT +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+\n"
                FILE_MATCH "${cli_out}/bench_hints.json|^\\{\n  \"runs\": \\[\n    \\{\n      \"throughput_fps\": \
.*\n      \"hint\": \"LATENCY\",\n.*\n    \\},\n    \\{\n      \"throughput_fps\": .*\n      \"hint\": \"THROUGHPUT\",\n\
.*\n    \\}\n  \\]\n\\}\n$"
                CLEAN ${cli_out}/bench_hints.json)
# --sweep on NUM_STREAMS 1 and 2 (x 1, 2, 4 requests per stream) and the THROUGHPUT hint: the table, the
# comparison and the self-contained HTML chart. (Point labels are placed best first: their order in the
# chart depends on the measured speeds, so only the table's order is checked.)
sluice_cli_test(bench_sweep_html EXPECT success
                ARGS bench -d CPU --sweep --sweep-streams 1,2 -t 0.1 --sweep-html ${cli_out}/sweep/sweep.html
                MATCH "\ns=1 r=1: [0-9.]+ FPS.*\ns=2 r=8: [0-9.]+ FPS[^\n]*\nTHROUGHPUT hint: [0-9.]+ FPS[^\n]*\n\n\
configuration +NUM_STREAMS +threads +requests +batch +FPS +median ms +p90 ms +p99 ms +vs best\n\
s=1 r=1 .*\ns=2 r=8 [^\n]*\nTHROUGHPUT hint +[0-9]+ .*\nbest configuration: s=[12] r=[1248]: [0-9.]+ FPS[^\n]*\n\
THROUGHPUT hint: [0-9.]+ FPS = [0-9.]+x the best configuration \\(s=[12] r=[1248]: [0-9.]+ FPS\\)\n\
wrote [^\n]*sweep.html\n$"
                FILE_MATCH "${cli_out}/sweep/sweep.html|^<!DOCTYPE html>\n.*<svg xmlns='http://www.w3.org/2000/svg'\
.*<polygon [^>]*fill='#d62728'[^>]*/>.*<text [^>]*font-weight='bold'[^>]*>THROUGHPUT hint</text>\
.*>s=1 r=1</text>.*</svg>\n<table>\n.*<td>s=2 r=4</td>.*<td>s=2 r=8</td>.*</table>\n</body>\n</html>\n$"
                CLEAN ${cli_out}/sweep)
sluice_cli_test(bench_sweep_json EXPECT success
                ARGS bench -d CPU --sweep --sweep-streams 1 -t 0.1 -hint latency --sweep-html ${cli_out}/sweep_json/s.html
                     --json ${cli_out}/sweep_json/sweep.json
                FILE_MATCH "${cli_out}/sweep_json/sweep.json|^\\{\n  \"sweep\": \\[\n    \\{\n\
      \"throughput_fps\": .*\n      \"label\": \"s=1 r=1\",\n.*\n      \"label\": \"s=1 r=2\",\n\
.*\n      \"label\": \"s=1 r=4\",\n.*\n  \\],\n  \"hint\": \\{\n    \"throughput_fps\": .*\n    \"hint\": \"LATENCY\",\n\
.*\n  \\},\n  \"best\": \\{\n    \"throughput_fps\": .*\n    \"label\": \"s=1 r=[124]\",\n.*\n  \\}\n\\}\n$"
                CLEAN ${cli_out}/sweep_json)
sluice_cli_test(bench_bad_api EXPECT error ARGS bench -d REF -api bogus MATCH "api: bogus not in \\{sync,async\\}")
sluice_cli_test(bench_bad_nireq EXPECT error ARGS bench -d REF -nireq -1
                MATCH "nireq: expected an integer >= 0, got '-1'")
sluice_cli_test(bench_bad_nstreams EXPECT error ARGS bench -d REF -nstreams foo
                MATCH "nstreams: expected a count >= 1 or AUTO, got 'foo'")
sluice_cli_test(bench_bad_hint EXPECT error ARGS bench -d REF -hint latency,fast
                MATCH "-hint 'latency,fast': 'fast' is not a hint; expected latency, throughput, \
cumulative_throughput or none")
sluice_cli_test(bench_sweep_with_nstreams EXPECT error ARGS bench -d REF --sweep -nstreams 2
                MATCH "-nstreams 2 with --sweep: the sweep chooses NUM_STREAMS itself")
sluice_cli_test(bench_bad_sweep_batch EXPECT error ARGS bench -d REF --sweep --sweep-batch 1,0
                MATCH "--sweep-batch '1,0': '0' is not a count; expected integers >= 1")
sluice_cli_test(bench_zero_niter EXPECT error ARGS bench -d REF -niter 0
                MATCH "niter: expected an integer >= 1, got '0'")
sluice_cli_test(bench_bad_time EXPECT error ARGS bench -d REF -t -1 MATCH "time: expected seconds > 0")
sluice_cli_test(bench_bad_precision EXPECT error ARGS bench -d REF -infer_precision i8
                MATCH "infer_precision: i8 not in")
sluice_cli_test(bench_unknown_option EXPECT error ARGS bench -d REF -nstreamz 2 MATCH "-nstreamz")
sluice_cli_test(bench_bad_shape EXPECT error ARGS bench -d REF -shape "input(1,3,224,224)"
                MATCH "-shape 'input\\(1,3,224,224\\)': expected NAME\\[DIMS\\] or \\[DIMS\\]")
sluice_cli_test(bench_bad_dims EXPECT error ARGS bench -d REF -shape input[1,3,x,224]
                MATCH "-shape 'input\\[1,3,x,224\\]': expected non-negative integer dimensions")
sluice_cli_test(bench_shape_unknown_input EXPECT error ARGS bench -d REF -shape image[1,3,224,224]
                MATCH "-shape: the model has no input 'image' \\(inputs: 'input'\\)")
sluice_cli_test(bench_property_twice EXPECT error ARGS bench -d REF -nthreads 1 -p INFERENCE_NUM_THREADS=2
                MATCH "-nthreads and -p INFERENCE_NUM_THREADS=... both set INFERENCE_NUM_THREADS")
sluice_cli_test(bench_json_unwritable EXPECT error
                ARGS bench -d REF -niter 1 --json ${cli_data}/add.onnx/bench.json
                MATCH "add.onnx/bench.json: cannot create the folder")

# The BATCH device (automatic batching), measured through the public API like any device: its batch and
# AUTO_BATCH_TIMEOUT after compiling, and its counters over the measured inferences, in the text and the
# JSON. (AUTO_BATCH_TIMEOUT=50: the first, lone warm-up request waits out the timeout, 50 ms rather than
# the default's second.) The device name is quoted: CMake splits unquoted arguments at parentheses.
sluice_cli_test(bench_batch_device_json EXPECT success
                ARGS bench -d "BATCH:CPU(2)" -niter 8 -p AUTO_BATCH_TIMEOUT=50 --json ${cli_out}/bench_batch.json
                MATCH "\nauto-batching: batch 2 \\(OPTIMAL_BATCH_SIZE\\), AUTO_BATCH_TIMEOUT 50 ms\n.*\
\nmeasuring: async API, [1-9][0-9]* requests, batch 1, 8 iterations\nCount: +8 iterations\n.*\
\nAuto-batching \\(measured inferences\\):\n    Batch: +2 \\(OPTIMAL_BATCH_SIZE\\), AUTO_BATCH_TIMEOUT 50 ms\n\
    Full batches: +[0-9]+ \\(AUTO_BATCH_FULL_BATCHES\\)\n\
    Timed out: +[0-9]+ requests, run unbatched \\(AUTO_BATCH_TIMED_OUT\\)\n"
                FILE_MATCH "${cli_out}/bench_batch.json|^\\{\n  \"throughput_fps\": [0-9.e+-]+,\n  \"count\": 8,\n\
.*\n  \"device\": \"BATCH:CPU\\(2\\)\",\n.*\n  \"batch\": 1,\n  \"auto_batch\": \\{\n    \"batch\": 2,\n\
    \"timeout_ms\": 50,\n    \"full_batches\": [0-9]+,\n    \"timed_out\": [0-9]+\n  \\},\n  \"seed\": 0,\n"
                CLEAN ${cli_out}/bench_batch.json)
# --sweep on a BATCH device: AUTO_BATCH_TIMEOUT x requests (1, 2 and 4 batches, and the device's
# OPTIMAL_NUMBER_OF_INFER_REQUESTS) under the THROUGHPUT hint, against the default configuration; the
# table and the HTML page add the timeout and counter columns, the chart's legend reads t= and r=.
sluice_cli_test(bench_batch_sweep EXPECT success
                ARGS bench -d "BATCH:CPU(2)" --sweep --sweep-timeouts 1,20 -t 0.1
                     --sweep-html ${cli_out}/batch_sweep/sweep.html --json ${cli_out}/batch_sweep/sweep.json
                MATCH "\nsweep: AUTO_BATCH_TIMEOUT 1, 20 ms x requests 2, 4, 8[0-9, ]* \\(batch 2: [^\n]*\
, then -hint throughput \\(the default configuration: AUTO_BATCH_TIMEOUT [0-9]+ ms, [0-9]+ requests\\); \
async API, 0.1 s each\nt=1 r=2: [0-9.]+ FPS[^\n]*; AUTO_BATCH_TIMEOUT 1 ms, [0-9]+ full batches, [0-9]+ timed out\\)\n\
.*\nt=20 r=8: [0-9.]+ FPS.*\nTHROUGHPUT hint: [0-9.]+ FPS[^\n]*\n\n\
configuration +NUM_STREAMS +threads +requests +batch +FPS +median ms +p90 ms +p99 ms +vs best +timeout ms \
+full batches +timed out\nt=1 r=2 +[0-9]+ +[0-9]+ +2 +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+x +1 +[0-9]+ +[0-9]+\n\
.*\nTHROUGHPUT hint +[0-9]+ +[0-9]+ +[0-9]+ +1 [^\n]+ +[0-9]+ +[0-9]+ +[0-9]+\n\
best configuration: t=(1|20) r=[0-9]+: [0-9.]+ FPS[^\n]*\n\
THROUGHPUT hint: [0-9.]+ FPS = [0-9.]+x the best configuration \\(t=(1|20) r=[0-9]+: [0-9.]+ FPS\\)\n"
                FILE_MATCH "${cli_out}/batch_sweep/sweep.html|^<!DOCTYPE html>\n.*<svg .*\
>configuration \\(t=AUTO_BATCH_TIMEOUT ms r=requests\\)</text>.*</svg>\n<table>\n<tr><th>configuration</th>.*\
<th>vs best</th><th>timeout ms</th><th>full batches</th><th>timed out</th></tr>\n<tr class=[^\n]*<td>t=1 r=2</td>\
.*</table>\n</body>\n</html>\n$"
                CLEAN ${cli_out}/batch_sweep)
sluice_cli_test(bench_sweep_timeouts_without_sweep EXPECT error ARGS bench -d "BATCH:CPU(2)" --sweep-timeouts 5
                MATCH "--sweep-timeouts without --sweep: add --sweep, or use -p AUTO_BATCH_TIMEOUT=MS")
sluice_cli_test(bench_sweep_timeouts_not_batch EXPECT error ARGS bench -d CPU --sweep --sweep-timeouts 5
                MATCH "--sweep-timeouts on CPU: AUTO_BATCH_TIMEOUT is swept on a BATCH device only")
sluice_cli_test(bench_sweep_streams_on_batch EXPECT error ARGS bench -d "BATCH:CPU(2)" --sweep --sweep-streams 1
                MATCH "--sweep-streams on BATCH:CPU\\(2\\): a BATCH device's sweep is AUTO_BATCH_TIMEOUT x requests")
sluice_cli_test(bench_bad_sweep_timeouts EXPECT error ARGS bench -d "BATCH:CPU(2)" --sweep --sweep-timeouts 5,x
                MATCH "--sweep-timeouts '5,x': 'x' is not a timeout in ms; expected integers >= 0 separated by ','")

# SIM, the benchmark-only simulated accelerator of `sluice bench --sim-device SERVICE_MS[:CONCURRENCY]`
# (src/tools/sluice/sim_device.hpp): it sleeps the service time instead of computing, and the report says
# so. Its compiled model reports CONCURRENCY streams and twice as many requests.
sluice_cli_test(bench_sim_device_json EXPECT success
                ARGS bench -d SIM --sim-device 2:3 -niter 9 --json ${cli_out}/bench_sim.json
                MATCH "\ndevice: SIM\nnote: SIM is a simulated accelerator \\(benchmark only: fixed 2 ms service, \
up to 3 at once, no computation\\): its outputs are zeros and its speed is the service time, not a device's\n\
.*\n  FULL_DEVICE_NAME: simulated accelerator \\(benchmark only: fixed 2 ms service, up to 3 at once, \
no computation\\)\n  INFERENCE_NUM_THREADS: 0\n.*\n  NUM_STREAMS: 3\n.*\n  OPTIMAL_NUMBER_OF_INFER_REQUESTS: 6\n\
.*\nmeasuring: async API, 6 requests, batch 1, 9 iterations\nCount: +9 iterations\n"
                FILE_MATCH "${cli_out}/bench_sim.json|^\\{\n  \"throughput_fps\": [0-9.e+-]+,\n  \"count\": 9,\n\
.*\n  \"device\": \"SIM\",\n.*\n  \"batch\": 1,\n  \"simulated_device\": \"SIM: simulated accelerator \
\\(benchmark only: fixed 2 ms service, up to 3 at once, no computation\\)\",\n  \"seed\": 0,\n"
                CLEAN ${cli_out}/bench_sim.json)
# MULTI and AUTO: the requests each device served during the measurement (SERVED_REQUESTS's growth: the
# warm-up's are left out) and EXECUTION_DEVICES, in the text and the JSON. MULTI over SIM alone must
# count exactly the measured inferences.
sluice_cli_test(bench_multi_served_exact EXPECT success
                ARGS bench -d "MULTI:SIM(3)" --sim-device 1:2 -niter 12 --json ${cli_out}/bench_multi_sim.json
                MATCH "\nmeasuring: async API, 3 requests, batch 1, 12 iterations\nCount: +12 iterations\n.*\
\nServed requests per device \\(measured inferences, SERVED_REQUESTS\\):\n    SIM: 12 \\(100.0%\\)\n\
Execution devices: SIM \\(EXECUTION_DEVICES\\)\n"
                FILE_MATCH "${cli_out}/bench_multi_sim.json|\n  \"batch\": 1,\n  \"served_requests\": \\{\n\
    \"SIM\": 12\n  \\},\n  \"execution_devices\": \\[\n    \"SIM\"\n  \\],\n  \"simulated_device\": \"SIM: [^\"]+\",\n"
                CLEAN ${cli_out}/bench_multi_sim.json)
sluice_cli_test(bench_multi_cpu_sim EXPECT success
                ARGS bench -d "MULTI:CPU,SIM" --sim-device 2:2 -niter 40 --json ${cli_out}/bench_multi.json
                MATCH "\nCount: +40 iterations\n.*\nServed requests per device \\(measured inferences, \
SERVED_REQUESTS\\):\n    CPU: +[0-9]+ \\([0-9.]+%\\)\n    SIM: +[0-9]+ \\([0-9.]+%\\)\n\
Execution devices: CPU, SIM \\(EXECUTION_DEVICES\\)\n"
                FILE_MATCH "${cli_out}/bench_multi.json|\n  \"device\": \"MULTI:CPU,SIM\",\n.*\
\n  \"served_requests\": \\{\n    \"CPU\": [0-9]+,\n    \"SIM\": [0-9]+\n  \\},\n\
  \"execution_devices\": \\[\n    \"CPU\",\n    \"SIM\"\n  \\],\n"
                CLEAN ${cli_out}/bench_multi.json)
sluice_cli_test(bench_auto_cumulative_served EXPECT success
                ARGS bench -d "AUTO:CPU,SIM" --sim-device 2:2 -hint cumulative_throughput -niter 20
                MATCH "\nServed requests per device \\(measured inferences, SERVED_REQUESTS\\):\n\
    CPU: +[0-9]+ \\([0-9.]+%\\)\n    SIM: +[0-9]+ \\([0-9.]+%\\)\nExecution devices: CPU, SIM \\(EXECUTION_DEVICES\\)\n")
# A device that reports no SERVED_REQUESTS (every one but MULTI and AUTO) prints no per-device block.
sluice_cli_test(bench_no_served_block EXPECT success ARGS bench -d CPU -niter 2
                MATCH "\nThroughput: [^\n]+\nPeak RSS: +[0-9]+ kB\n$")
sluice_cli_test(bench_sim_without_flag EXPECT error ARGS bench -d "MULTI:CPU,SIM(2)" -niter 1
                MATCH "-d MULTI:CPU,SIM\\(2\\): SIM, the simulated accelerator, exists only with --sim-device \
SERVICE_MS\\[:CONCURRENCY\\]")
sluice_cli_test(bench_bad_sim_concurrency EXPECT error ARGS bench -d SIM --sim-device 5:0
                MATCH "--sim-device '5:0': '0' is not a concurrency: expected SERVICE_MS\\[:CONCURRENCY\\]")
sluice_cli_test(bench_bad_sim_service EXPECT error ARGS bench -d SIM --sim-device fast
                MATCH "--sim-device 'fast': 'fast' is not a service time: expected SERVICE_MS\\[:CONCURRENCY\\]")

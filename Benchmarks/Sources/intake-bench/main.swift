// intake-bench: in-process benchmarks run by `scripts/bench`.
//   intake-bench multipart [MiB]   parse throughput of a multipart body, and peak memory
//   intake-bench templates         Intake's engine against swift-mustache on one admin page

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "multipart":
    MultipartBenchmark.run(mebibytes: arguments.dropFirst().first.flatMap { Int($0) } ?? 256)
case "templates":
    TemplateBenchmark.run()
case "templates-profile":
    TemplateBenchmark.profile(count: arguments.dropFirst().first.flatMap { Int($0) } ?? 100)
default:
    print("usage: intake-bench multipart [MiB] | templates")
}

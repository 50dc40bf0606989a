enum TemplateBenchmark { static func run() { print("templates: not yet") } }

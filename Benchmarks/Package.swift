// swift-tools-version:6.0
import PackageDescription

/// Benchmarks for Intake, kept in their own package so that the product's dependency graph
/// stays clean: the comparison engine (swift-mustache) is only ever built here.
let package = Package(
    name: "IntakeBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Intake", path: ".."),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        .executableTarget(name: "intake-bench", dependencies: [
            .product(name: "Web", package: "Intake"),
            .product(name: "Templates", package: "Intake"),
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

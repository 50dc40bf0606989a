// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets for Intake's parsers, kept in their own package like the benchmarks: they
/// are built only by `scripts/fuzz`, with `--sanitize=fuzzer --sanitize=address`, and never by
/// `swift build` or `swift test` of the product.
///
/// Each executable exports `LLVMFuzzerTestOneInput` (libFuzzer supplies `main`) and checks an
/// oracle beyond "no crash": the same answer however the input is split, or a round trip through
/// the matching encoder. The parsers that are internal to their module are reached with
/// `@testable import`, as the unit tests reach them; `scripts/fuzz` builds with `-enable-testing`.
let package = Package(
    name: "IntakeFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Intake", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "fuzz-multipart", dependencies: ["FuzzSupport", .product(name: "Web", package: "Intake")]),
        .executableTarget(name: "fuzz-templates", dependencies: ["FuzzSupport", .product(name: "Templates", package: "Intake")]),
        .executableTarget(name: "fuzz-forms", dependencies: ["FuzzSupport", .product(name: "Web", package: "Intake")]),
        .executableTarget(name: "fuzz-tus-metadata", dependencies: [
            "FuzzSupport", .product(name: "IntakeWeb", package: "Intake"), .product(name: "Intake", package: "Intake"),
        ]),
        .executableTarget(name: "fuzz-money", dependencies: ["FuzzSupport", .product(name: "Intake", package: "Intake")]),
        .executableTarget(name: "fuzz-provider-answers", dependencies: ["FuzzSupport", .product(name: "Integrations", package: "Intake")]),
    ],
    swiftLanguageModes: [.v6]
)

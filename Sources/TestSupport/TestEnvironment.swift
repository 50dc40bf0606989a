import Foundation

/// Whether the tests that need more than the test process run: the end-to-end tests (the built
/// `intake` behind a real nginx) and those that talk to a real clamd. `scripts/test` (and CI) turns
/// them on with `INTAKE_INTEGRATION=1`; `swift test` alone stays fast and skips them.
public let integrationEnabled = ProcessInfo.processInfo.environment["INTAKE_INTEGRATION"] == "1"

import ArgumentParser
import Database
import Foundation
import Intake

/// How the operator commands answer: JSON for machines (`--json`), plain lines for people.
enum OperatorOutput {
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// A diagnosis as people read it: the verdict, then each finding with its cure.
    static func text(_ diagnosis: Diagnosis) {
        print("Diagnosis of \(diagnosis.scope): \(label(diagnosis.verdict))")
        for finding in diagnosis.findings {
            print("  \(label(finding.verdict).padding(toLength: 8, withPad: " ", startingAt: 0)) \(finding.check): \(finding.subject): \(finding.found)")
            if let cure = finding.cure { print("           cure: \(cure)") }
        }
    }

    static func label(_ verdict: Diagnosis.Verdict) -> String {
        switch verdict {
        case .ok: return "ok"
        case .warning: return "WARNING"
        case .problem: return "PROBLEM"
        }
    }

    /// `--apply` and `--dry-run` together are a contradiction.
    static func refuseBoth(apply: Bool, dryRun: Bool, applyName: String) throws {
        if apply && dryRun { throw ValidationError("--\(applyName) and --dry-run contradict each other; give one.") }
    }
}

/// Exit codes the operator commands share, so scripts can rely on them.
enum OperatorExit {
    /// Nothing wrong, or everything asked for was done.
    static let ok: Int32 = 0
    /// Something was found: warnings (diagnose), or work a dry run would do.
    static let found: Int32 = 1
    /// A problem that needs an operator, or work that could not be done.
    static let problem: Int32 = 2
    /// Bad arguments, or no such user, portal or file (EX_USAGE).
    static let usage: Int32 = 64

    /// A backup's or a restore's file error: a wrong file or folder named is a bad argument;
    /// the rest (not writable, disk full, damaged, in use) needs an operator.
    static func code(for error: DatabaseFileError) -> Int32 {
        switch error.reason {
        case .exists, .missing, .noFolder, .notADatabase: return usage
        case .notWritable, .noSpace, .damaged, .inUse, .failed: return problem
        }
    }
}

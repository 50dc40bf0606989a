import Intake
import Templates

/// A diagnosis as the diagnostics pages show it: the verdict, then each finding with its cure.
enum DiagnosisView {
    static func value(_ diagnosis: Diagnosis) -> TemplateValue {
        [
            "scope": .string(diagnosis.scope),
            "verdict": .string(label(diagnosis.verdict)),
            "verdictClass": .string(diagnosis.verdict.rawValue),
            "findings": .list(diagnosis.findings.map(finding)),
        ]
    }

    static func finding(_ finding: Diagnosis.Finding) -> TemplateValue {
        [
            "check": .string(checkName(finding.check)),
            "subject": .string(finding.subject),
            "verdict": .string(label(finding.verdict)),
            "verdictClass": .string(finding.verdict.rawValue),
            "found": .string(finding.found),
            "cure": finding.cure.map(TemplateValue.string) ?? .null,
        ]
    }

    static func label(_ verdict: Diagnosis.Verdict) -> String {
        switch verdict {
        case .ok: return "OK"
        case .warning: return "Warning"
        case .problem: return "Problem"
        }
    }

    static func checkName(_ check: String) -> String {
        switch check {
        case "storage_accounts": return "Storage accounts"
        case "grants": return "Provider access"
        case "portals": return "Portals"
        case "files": return "Files"
        case "deliveries": return "Deliveries"
        case "usage": return "Quota and usage"
        case "leases": return "Leases"
        case "reservations": return "Reservations"
        default: return check
        }
    }
}

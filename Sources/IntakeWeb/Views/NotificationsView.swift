import Intake
import Templates

/// The notification choices as radio buttons or a select: `inherit` adds the portal's "as the
/// account says" choice (the empty value).
enum NotificationsView {
    static let labels: [(NotificationMode, String)] = [
        (.each, "A mail for every file"), (.daily, "One mail a day listing the files"), (.none, "No mail"),
    ]

    static func options(selected: String, inherit: String?) -> TemplateValue {
        var options: [TemplateValue] = []
        if let inherit { options.append(["value": "", "label": .string(inherit), "selected": .bool(selected.isEmpty)]) }
        options += labels.map { mode, label in ["value": .string(mode.rawValue), "label": .string(label), "selected": .bool(selected == mode.rawValue)] }
        return .list(options)
    }
}

import Intake
import Templates
import Web

/// `GET /admin/tariffs`: the plans, and an empty form for a new one.
enum AdminTariffList {
    /// The new-plan form's defaults.
    static let blank: [String: TemplateValue] = ["name": "", "monthly_price": "", "max_portals": "5", "active": true]

    static func handle(_ context: RequestContext) throws -> Response {
        try AdminTariffListPage.render(context, values: blank, storage: FormFieldView.size("storage", number: "10", unit: "GB"),
                                       maxFile: FormFieldView.size("max_file", number: "2", unit: "GB"), errors: FieldErrors())
    }
}

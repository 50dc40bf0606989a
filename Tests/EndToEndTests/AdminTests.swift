import Foundation
import Testing
import TestSupport

@Suite("Operator admin through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct AdminTests {
    let password = "correct horse battery"

    /// A server with an admin (signed in, returned) and a portal owner.
    func start() throws -> (IntakeTestServer, WebSession) {
        let server = try IntakeTestServer()
        try server.createUser(email: "root@example.com", name: "Root", role: "admin")
        try server.createUser(email: "owner@example.com", name: "Olive Owner")
        let admin = server.session()
        try admin.get("/login")
        try admin.post("/login", form: [("email", "root@example.com"), ("password", password)])
        return (server, admin)
    }

    func signedIn(_ server: IntakeTestServer, _ email: String) throws -> WebSession {
        let s = server.session()
        try s.get("/login")
        try s.post("/login", form: [("email", email), ("password", password)])
        return s
    }

    let validPricing: [(String, String)] = [
        ("price_per_gb", "0.25"), ("currency", "USD"), ("min_gb", "5"), ("max_gb", "500"), ("validity_days", "365"),
        ("free_storage_number", "2"), ("free_storage_unit", "GiB"), ("over_quota_policy", "delete_oldest"), ("grace_days", "14"),
    ]

    func replacing(_ form: [(String, String)], _ name: String, _ value: String?) -> [(String, String)] {
        var out = form.filter { $0.0 != name }
        if let value { out.append((name, value)) }
        return out
    }

    @Test("storage pricing: a valid save makes a version with history and an audit entry")
    func pricingSave() throws {
        let (server, admin) = try start()
        defer { server.stop() }
        try admin.get("/admin/storage/pricing")
        let saved = try admin.post("/admin/storage/pricing", form: validPricing)
        #expect(saved.status == 303 && saved.headers["location"] == "/admin/storage/pricing")
        let page = try admin.get("/admin/storage/pricing")
        #expect(page.text.contains("Storage pricing saved as a new version."))
        // 2 GiB posted (a script may still send binary units) reads back in the one unit system the form offers.
        #expect(page.text.contains("value=\"0.25\"") && page.text.contains("value=\"2.147483648\"") && page.text.contains("<option value=\"GB\" selected>"))
        #expect(!page.text.contains("GiB"), "no binary unit on the page")
        #expect(page.text.contains("$0.25") && page.text.contains("delete oldest after 14 days") && page.text.contains("root@example.com"))
        // A second save is a second version; the first stays in the history.
        try admin.post("/admin/storage/pricing", form: replacing(validPricing, "price_per_gb", "0.30"))
        let history = try admin.get("/admin/storage/pricing").text
        #expect(history.contains("$0.30") && history.contains("$0.25"))
        let audit = try admin.get("/admin/audit?action=storage_pricing.save").text
        // Sentences, each changed value once in words: no JSON.
        #expect(audit.components(separatedBy: "root@example.com saved storage pricing #").count - 1 == 2, "\(audit)")
        #expect(audit.contains(#"<span class="audit-field">price per gb:</span> <span class="audit-before">0.25</span> → <span class="audit-after">0.30</span>"#), "\(audit)")
        #expect(!audit.contains("&quot;"), "no JSON on the page")
    }

    @Test("storage pricing: each invalid field is refused with its message and the values kept", arguments: [
        ("price_per_gb", "4.999", "Use at most 2 decimals for USD."),
        ("price_per_gb", "1e3", "Enter a number like 4.99"),
        ("price_per_gb", "-1", "Enter an amount of 0 or more, without a minus sign."),
        ("price_per_gb", "9,99", "Use a point for decimals: 9.99."),
        ("currency", "XXX", "Choose a currency"),
        ("currency", "EUR", "Plans and balances here are in USD, so storage is priced in USD too"),
        ("min_gb", "0", "Enter a number from 1 to 100000."),
        ("max_gb", "4", "The maximum must not be below the minimum (5 GB)."),
        ("validity_days", "", "Enter a number."),
        ("free_storage_unit", "KB", "Choose a unit"),
        ("free_storage_number", "0.3", "This is not a whole number of bytes."),
        ("over_quota_policy", "shrug", "Choose what happens over quota."),
        ("grace_days", "400", "That is too large. Enter a number from 1 to 365."),
    ])
    func pricingInvalid(field: String, value: String, message: String) throws {
        let (server, admin) = try start()
        defer { server.stop() }
        try admin.get("/admin/storage/pricing")
        var form = replacing(validPricing, field, value)
        if field == "free_storage_number" { form = replacing(form, "free_storage_unit", "MiB") }
        let refused = try admin.post("/admin/storage/pricing", form: form)
        #expect(refused.status == 422)
        let errorID = field.hasPrefix("free_storage") ? "free_storage" : field
        let pattern = "id=\"\(errorID)-error\">"
        #expect(refused.text.components(separatedBy: pattern).dropFirst().first?.hasPrefix(message.prefix(20)) == true,
                "\(field): expected \(message)")
        #expect(refused.text.contains("value=\"\(field == "price_per_gb" ? value : "0.25")\""), "typed values are kept")
        #expect(!(try admin.get("/admin/storage/pricing").text.contains("badge-ok\">current")), "nothing was saved")
    }

    @Test("storage pricing: the script path gets JSON errors by field and a redirect on success")
    func pricingJSON() throws {
        let (server, admin) = try start()
        defer { server.stop() }
        try admin.get("/admin/storage/pricing")
        let bad = try admin.post("/admin/storage/pricing", form: replacing(validPricing, "min_gb", "x"), headers: [("Accept", "application/json")])
        #expect(bad.status == 422)
        #expect(bad.text == #"{"error":{"code":"invalid","message":"Some fields need attention.","fields":{"min_gb":"Enter a whole number (digits only)."}}}"#)
        let good = try admin.post("/admin/storage/pricing", form: validPricing, headers: [("Accept", "application/json")])
        #expect(good.status == 200 && good.text.contains(#""redirect":"/admin/storage/pricing""#))
    }

    @Test("admin forms refuse a missing CSRF token and non-admins", arguments: [
        "/admin/storage/pricing", "/admin/tariffs", "/admin/storage/quotas", "/admin/users/2/plan",
    ])
    func refused(path: String) throws {
        let (server, admin) = try start()
        defer { server.stop() }
        try admin.get("/admin")
        #expect(try admin.post(path, form: validPricing, csrf: .none).status == 403)
        let owner = try signedIn(server, "owner@example.com")
        try owner.get("/dashboard")
        #expect(try owner.post(path, form: validPricing).status == 403)
        #expect(try owner.get("/admin/storage/pricing").status == 403)
        let audit = try admin.get("/admin/audit").text
        #expect(audit.contains("No entries match."), "nothing was recorded, so nothing changed")
    }

    @Test("tariff plans: create, refuse bad fields and duplicate names, edit, assign, archive but not delete while in use")
    func tariffs() throws {
        let (server, admin) = try start()
        defer { server.stop() }
        try admin.get("/admin/tariffs")
        let plan: [(String, String)] = [("name", "Pro & <Team>"), ("monthly_price", "9.99"), ("storage_number", "100"), ("storage_unit", "GB"),
                                        ("max_file_number", "2"), ("max_file_unit", "GiB"), ("max_portals", "20"), ("active", "1")]
        #expect(try admin.post("/admin/tariffs", form: plan).status == 303)
        let list = try admin.get("/admin/tariffs").text
        #expect(list.contains("Pro &amp; &lt;Team&gt;") && list.contains("$9.99") && list.contains("100 GB"))
        let duplicate = try admin.post("/admin/tariffs", form: plan)
        #expect(duplicate.status == 422 && duplicate.text.contains("A plan with this name exists already."))
        // Every field answered at once: the taken name beside the numbers that do not parse.
        let rounds = try admin.post("/admin/tariffs", form: replacing(replacing(plan, "monthly_price", "9,99"), "max_portals", "-3"))
        #expect(rounds.status == 422 && rounds.text.contains("A plan with this name exists already.")
                    && rounds.text.contains("Use a point for decimals: 9.99.") && rounds.text.contains("No minus sign."), "\(rounds.text)")
        for (field, value, message) in [("monthly_price", "9.999", "Use at most 2 decimals"), ("max_portals", "-3", "No minus sign."),
                                        ("max_file_number", "0", "The maximum file size must be more than zero."), ("name", " ", "Enter a name.")] {
            let bad = try admin.post("/admin/tariffs", form: replacing(plan, field, value))
            #expect(bad.status == 422 && bad.text.contains(message), "\(field)=\(value)")
        }
        let edit = try admin.post("/admin/tariffs/1", form: replacing(plan, "monthly_price", "12.50"))
        #expect(edit.status == 303)
        #expect(try admin.get("/admin/tariffs/1").text.contains("value=\"12.50\""))

        // Assign it to the owner (user 2): their quota becomes the plan's storage.
        try admin.get("/admin/users/2")
        #expect(try admin.post("/admin/users/2/plan", form: [("plan_id", "1")]).status == 303)
        let user = try admin.get("/admin/users/2").text
        #expect(user.contains("<dd>100 GB</dd>") && user.contains("Pro &amp; &lt;Team&gt;: 100 GB"))
        #expect(user.contains("<dt>Balance</dt><dd>$0.00</dd>"))

        try admin.get("/admin/tariffs/1")
        let delete = try admin.post("/admin/tariffs/1/delete", form: [])
        #expect(delete.status == 409 && delete.text.contains("cannot be deleted. Archive it instead."))
        try admin.get("/admin/tariffs/1")
        #expect(try admin.post("/admin/tariffs/1/archive", form: []).status == 303)
        let archived = try admin.get("/admin/tariffs").text
        #expect(archived.contains("archived") && archived.contains("Pro &amp; &lt;Team&gt;"))
        // An archived plan can no longer be given to anyone.
        try admin.post("/admin/users/2/plan", form: [("plan_id", "none")])
        try admin.get("/admin/users/2")
        let again = try admin.post("/admin/users/2/plan", form: [("plan_id", "1")])
        #expect(again.status == 422 && again.text.contains("Choose an active plan."))
        let audit = try admin.get("/admin/audit?entity=tariff_plan").text
        for action in ["tariff_plan.create", "tariff_plan.update", "tariff_plan.archive"] { #expect(audit.contains(action)) }
        #expect(try admin.get("/admin/audit?action=user.plan_assign").text.contains("user #2"))
    }

    @Test("quotas: override set and cleared, filters and search, audit with before and after")
    func quotas() throws {
        let (server, admin) = try start()
        defer { server.stop() }
        try admin.get("/admin/users/2")
        let set = try admin.post("/admin/storage/quotas", form: [("user_id", "2"), ("action", "set"), ("override_number", "1.5"),
                                                                  ("override_unit", "GB"), ("return_to", "/admin/users/2")])
        #expect(set.status == 303 && set.headers["location"] == "/admin/users/2")
        let page = try admin.get("/admin/storage/quotas?q=owner").text
        #expect(page.contains("owner@example.com") && page.contains("1.5 GB") && !page.contains("root@example.com"))
        #expect(page.contains("1 user</p>") && !page.contains(#"rel="next""#), "the count is shown, and no next page")
        let everyone = try admin.get("/admin/storage/quotas?sort=used").text
        #expect(everyone.contains("2 users</p>"))
        #expect(try admin.get("/admin/storage/quotas?after=nonsense").status == 400, "a cursor the list did not give")
        let bad = try admin.post("/admin/storage/quotas", form: [("user_id", "2"), ("action", "set"), ("override_number", "lots"), ("override_unit", "GB")])
        #expect(bad.status == 422 && bad.text.contains("Enter a number like 1.5"))
        try admin.get("/admin/users/2")
        #expect(try admin.post("/admin/storage/quotas", form: [("user_id", "2"), ("action", "clear"), ("return_to", "/admin/users/2")]).status == 303)
        #expect(try admin.get("/admin/users/2").text.contains("<dd>none</dd>"))
        #expect(try admin.get("/admin/storage/quotas?filter=over").text.contains("No users match."))
        let audit = try admin.get("/admin/audit?entity=user").text
        #expect(audit.contains("root@example.com set a quota for user #2.") && audit.contains("root@example.com cleared the quota set for user #2."))
        #expect(audit.contains(#"<span class="audit-after">1.5 GB</span>"#) || audit.contains("quota override:</span> 1.5 GB"), "sizes in the one size format: \(audit)")
        #expect(try admin.get("/admin/audit?actor=root").text.contains("root@example.com"))
        #expect(try admin.get("/admin/audit?actor=nobody").text.contains("No entries match."))
        // System events apart from people's changes.
        #expect(try admin.get("/admin/audit?by=people").text.contains("root@example.com set a quota for user #2."))
        let system = try admin.get("/admin/audit?by=system").text
        #expect(!system.contains("root@example.com set") && system.contains(#"<option value="system" selected>"#))
    }
}

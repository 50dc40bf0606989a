import Intake
import Web

/// `POST /account/tokens` (`token_name`, `token_scope`): creates a personal API token and shows
/// it this once, on the account page itself (never in a redirect, a cookie or a log).
enum AccountTokenCreate {
    static func handle(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        let user = context.user!
        let name = String((form["token_name"] ?? "").prefix(200)), scope = form["token_scope"]
        switch try context.stores.apiTokens.create(userID: user.id, name: name, scope: scope, by: context.actor) {
        case .success(let created):
            if context.request.prefersJSON {
                return .json(["token": .string(created.token), "id": .int(created.record.id), "prefix": .string(created.record.prefix)], status: .created)
            }
            var response = try AccountPage.render(context, profile: FormState(values: ["name": user.name]), password: FormState(),
                                                  newToken: created.token, status: .created)
            // The token is in this page only: no cache may keep it.
            response.headers.set("cache-control", "no-store")
            return response
        case .failure(let errors):
            return try FormAnswer.invalid(context, errors) {
                try AccountPage.render(context, profile: FormState(values: ["name": user.name]), password: FormState(),
                                       tokenForm: FormState(values: ["token_name": name, "token_scope": scope ?? ""], errors: errors.messages),
                                       status: .unprocessableContent)
            }
        }
    }
}

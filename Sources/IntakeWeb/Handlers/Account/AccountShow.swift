import Intake
import Web

/// `GET /account`: the signed-in user's name, password and notification preference.
enum AccountShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try AccountPage.render(context, profile: FormState(values: ["name": context.user!.name]), password: FormState(), status: .ok)
    }
}

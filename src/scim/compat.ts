/**
 * What real IdPs send that RFC 7644 does not allow (docs/client-compatibility.md). Each coercion
 * is switchable on its own (SCIMCAST_COMPAT_*); SCIMCAST_STRICT turns every unset one off. Recorded request shapes are
 * replayed in test/integration/compat.test.ts.
 */
export interface ClientCompat {
  /**
   * SCIMCAST_STRICT as configured. Besides setting the default of every switch below, it decides
   * one RFC reading that is no IdP quirk: a PATCH `remove` of `members[value eq "<id>"]` naming no
   * member is 400 noTarget when strict, and an idempotent no-op otherwise (provisioning/patch.ts).
   */
  readonly strict: boolean;
  /** Entra ID: `"True"` / `"False"` for boolean attributes. */
  readonly stringBooleans: boolean;
  /** Entra ID: `"Add"`, `"Replace"`, `"Remove"` as PATCH `op`. */
  readonly opCase: boolean;
  /** Entra ID: `remove` on `members` with a `value` array removes exactly those members. */
  readonly memberValueRemove: boolean;
  /** Entra ID: the enterprise `manager` path with a bare string value (the manager's id). */
  readonly managerString: boolean;
  /** Entra ID / Okta: keys such as `name.givenName` or `urn:…:User:department` in a path-less value. */
  readonly dottedKeys: boolean;
  /** Entra ID: add/replace on `emails[type eq "work"].value` when no such value exists yet creates it. */
  readonly absentMultiValueFilter: boolean;
  /**
   * Strict clients: /ServiceProviderConfig carries only RFC 7643 §5 attributes (no RFC 9865
   * `pagination`, no RFC 9967 `securityEvents`). Not a coercion, so SCIMCAST_STRICT leaves it off.
   */
  readonly coreServiceProviderConfig: boolean;
  /**
   * A Group member's `display`, when the client sent none, filled from the member's displayName
   * or userName (SCIMCAST_COMPAT_MEMBER_DISPLAY; off by default, strict or not). Off, a member
   * reads back with the sub-attributes the client sent plus `$ref` and `type` (RFC 7643 §8.7.1).
   */
  readonly memberDisplay: boolean;
}

export const LENIENT: ClientCompat = Object.freeze({
  strict: false,
  stringBooleans: true,
  opCase: true,
  memberValueRemove: true,
  managerString: true,
  dottedKeys: true,
  absentMultiValueFilter: true,
  coreServiceProviderConfig: false,
  memberDisplay: false,
});

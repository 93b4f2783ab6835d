/** RFC 7643 §2.2 / §7 attribute characteristics. */
export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'binary' | 'reference' | 'complex';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDef {
  readonly name: string;
  readonly type: AttrType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: Mutability;
  readonly returned: Returned;
  readonly uniqueness: Uniqueness;
  readonly subAttributes?: readonly AttributeDef[];
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
}

export interface SchemaDef {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDef[];
}

type Opts = Partial<Omit<AttributeDef, 'name' | 'type' | 'description'>>;

/** RFC 7643 §2.2 defaults: not required, not caseExact, readWrite, returned default, uniqueness none. */
export function attr(name: string, type: AttrType, description: string, o: Opts = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...(type === 'reference' ? { caseExact: true } : {}),
    ...o,
  };
}

export const str = (name: string, description: string, o: Opts = {}) => attr(name, 'string', description, o);
export const complex = (name: string, description: string, subAttributes: AttributeDef[], o: Opts = {}) =>
  attr(name, 'complex', description, { subAttributes, ...o });
export const multi = (name: string, description: string, subAttributes: AttributeDef[], o: Opts = {}) =>
  complex(name, description, subAttributes, { multiValued: true, ...o });

/** The common sub-attributes of multi-valued attributes (RFC 7643 §2.4). */
export function multiValuedSubs(valueDesc: string, types: string[] | undefined, valueOpts: Opts = {}, valueType: 'string' | 'reference' | 'binary' = 'string') {
  return [
    attr('value', valueType, valueDesc, valueOpts),
    str('display', 'A human-readable name, primarily used for display purposes.'),
    str('type', 'A label indicating the attribute\'s function.', types ? { canonicalValues: types } : {}),
    attr('primary', 'boolean', 'A Boolean value indicating the \'primary\' or preferred attribute value for this attribute.'),
  ];
}

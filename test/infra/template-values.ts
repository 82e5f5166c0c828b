// Reads CloudFormation values as flat strings, so tests can say what a policy or variable points at without
// spelling out intrinsic functions: `<Logical>` for a Ref, `<Logical.Attr>` for a GetAtt, `<AWS::Region>` for a
// pseudo parameter. References to the other stack are followed to the output they read.

export type Outputs = Readonly<Record<string, { readonly Value: unknown }>>;

export function flatten(value: unknown, outputs: Outputs = {}): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => flatten(v, outputs)).join(',');
  if (typeof value !== 'object' || value === null) return '';
  const node = value as Record<string, unknown>;
  if ('Ref' in node) return `<${String(node.Ref)}>`;
  if ('Fn::GetAtt' in node) {
    const [resource, attribute] = node['Fn::GetAtt'] as [string, string];
    return `<${resource}.${attribute}>`;
  }
  if ('Fn::Join' in node) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => flatten(p, outputs)).join(delimiter);
  }
  if ('Fn::GetStackOutput' in node) {
    const { OutputName } = node['Fn::GetStackOutput'] as { OutputName: string };
    const output = outputs[OutputName];
    if (!output) throw new Error(`no output ${OutputName} in the other stack`);
    return flatten(output.Value, outputs);
  }
  return JSON.stringify(value);
}

export interface FlatStatement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: unknown;
}

export function flatStatements(document: unknown, outputs: Outputs): FlatStatement[] {
  const statements = (document as { Statement?: unknown[] } | undefined)?.Statement ?? [];
  return statements.map((raw) => {
    const s = raw as Record<string, unknown>;
    const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
    return {
      sid: s.Sid as string | undefined,
      effect: String(s.Effect),
      actions: list(s.Action).map((a) => flatten(a, outputs)),
      resources: list(s.Resource).map((r) => flatten(r, outputs)),
      condition: s.Condition,
    };
  });
}

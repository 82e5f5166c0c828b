import type {
  BooleanSetting,
  DeployFunctionName,
  FunctionName,
  IntegerListSetting,
  IntegerSetting,
  NumberSetting,
  Setting,
} from '../wiring/pipeline.js';

/** A function's configuration could not be read; names every problem at once so a cold start says all of it. */
export class ConfigurationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`configuration is invalid: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
  }
}

/** Reads environment variables, collecting problems instead of failing at the first. */
export class EnvReader {
  private readonly problems: string[] = [];

  /** `functionName` picks a setting's default where the wiring gives that function its own (defaultFor). */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly functionName?: FunctionName | DeployFunctionName,
  ) {}

  /** A setting of the wiring's TUNING table, with its default and bounds: `read.setting(TUNING.leaseGraceMs)`. */
  setting(spec: BooleanSetting): boolean;
  setting(spec: IntegerListSetting): readonly number[];
  setting(spec: IntegerSetting | NumberSetting): number;
  setting(spec: Setting): number | boolean | readonly number[] {
    switch (spec.kind) {
      case 'integer': {
        const own =
          this.functionName === undefined ? undefined : spec.defaultFor?.[this.functionName as FunctionName];
        return this.integer(spec.env, own ?? spec.default, { min: spec.min, max: spec.max });
      }
      case 'number':
        return this.number(spec.env, spec.default, { min: spec.min, max: spec.max });
      case 'boolean':
        return this.boolean(spec.env, spec.default);
      case 'integerList':
        return this.integerList(spec.env, spec.default, { min: spec.min, max: spec.max });
    }
  }

  string(name: string): string {
    const value = this.env[name];
    if (!value) {
      this.problems.push(`${name} is not set`);
      return '';
    }
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.env[name] || undefined;
  }

  integer(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** A number (fractions allowed) from `min` to `max`; `fallback` when unset. */
  number(name: string, fallback: number, { min = 0, max = Number.MAX_VALUE } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}, not "${raw}"`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    this.problems.push(`${name} must be true or false, not "${raw}"`);
    return fallback;
  }

  json<T>(name: string, check: (value: unknown, problems: string[]) => T): T {
    const raw = this.string(name);
    if (!raw) return check(undefined, []);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.problems.push(`${name} is not valid JSON`);
      return check(undefined, []);
    }
    return check(parsed, this.problems);
  }

  /** A comma-separated list of whole numbers, each from `min` to `max`; `fallback` when unset. */
  integerList(
    name: string,
    fallback: readonly number[],
    { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
  ): readonly number[] {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const values = raw.split(',').map((part) => Number(part.trim()));
    if (values.some((v) => !Number.isSafeInteger(v) || v < min || v > max)) {
      this.problems.push(
        `${name} must be whole numbers from ${min} to ${max} separated by commas, not "${raw}"`,
      );
      return fallback;
    }
    return values;
  }

  /** Records a problem found by a check of the function's own (e.g. two settings that do not fit together). */
  problem(text: string): void {
    this.problems.push(text);
  }

  /** Throws ConfigurationError listing every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigurationError(this.problems);
  }
}

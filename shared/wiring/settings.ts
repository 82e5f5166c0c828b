/**
 * What a tunable setting is: its environment variable, its kind (integer, number, boolean, list of integers), its
 * default and bounds, and the functions that read it. The settings themselves are in TUNING (tuning.ts).
 */

import type { FunctionName } from './names.js';

interface SettingSpec {
  /** The environment variable. */
  readonly env: string;
  /**
   * The functions that read it (through their composition root or the shared readers it calls: functionRuntime,
   * readGateSettings, readRelaySettings). test/unit/functions/wiring.test.ts checks this against what each reads.
   */
  readonly readBy: readonly FunctionName[];
}

/** A whole number; unset or empty gives the default, and anything outside `min` to `max` fails the cold start. */
export interface IntegerSetting extends SettingSpec {
  readonly kind: 'integer';
  readonly default: number;
  /** A different default for some of the functions that read it. */
  readonly defaultFor?: Partial<Readonly<Record<FunctionName, number>>>;
  /** 0 when absent. */
  readonly min?: number;
  /** Number.MAX_SAFE_INTEGER when absent. */
  readonly max?: number;
}

/** A number, fractions allowed. */
export interface NumberSetting extends SettingSpec {
  readonly kind: 'number';
  readonly default: number;
  /** 0 when absent. */
  readonly min?: number;
  /** Number.MAX_VALUE when absent. */
  readonly max?: number;
}

/** true, 1 or yes; false, 0 or no (any case). */
export interface BooleanSetting extends SettingSpec {
  readonly kind: 'boolean';
  readonly default: boolean;
}

/** Whole numbers separated by commas, each from `min` (0 when absent) to `max`. */
export interface IntegerListSetting extends SettingSpec {
  readonly kind: 'integerList';
  readonly default: readonly number[];
  readonly min?: number;
  readonly max?: number;
}

export type Setting = IntegerSetting | NumberSetting | BooleanSetting | IntegerListSetting;

// Component ids are `type[/name]`: the type picks the factory, the name tells instances apart.
import { ConfigError } from '../../common/config/config-schema.js';

export interface ComponentId { type: string; name: string; toString(): string }

const TYPE_RE = /^[a-z][a-z0-9_]*$/;

export function parseComponentId(raw: string, path: string): ComponentId {
  const slash = raw.indexOf('/');
  const type = slash < 0 ? raw : raw.slice(0, slash);
  const name = slash < 0 ? '' : raw.slice(slash + 1);
  if (!TYPE_RE.test(type)) {
    throw new ConfigError(path, `"${raw}" is not a valid component id: the type must be lower_snake_case (type[/name])`);
  }
  if (slash >= 0 && (name === '' || /\s|\//.test(name))) {
    throw new ConfigError(path, `"${raw}" is not a valid component id: the name after "/" must be non-empty, without spaces or "/"`);
  }
  const text = raw;
  return { type, name, toString: () => text };
}

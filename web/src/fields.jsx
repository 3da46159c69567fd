// fields.jsx - the inputs of the node panel, one per widget of
// flow.js widgetOf(): text, number, select, duration (number + unit), email
// template picker, workflow picker, JSON, and JSON Logic (checked as you
// type: JSON syntax at once, the rule by the coordinator a moment later).
import { useEffect, useRef, useState } from 'react';
import { post } from './api.js';
import { DURATION_UNITS, parseJson, showJson, splitSeconds, toSeconds } from './flow.js';

function Help({ id, text }) {
  return text ? (
    <p className="field__help" id={id}>
      {text}
    </p>
  ) : null;
}

function Required({ required }) {
  return required ? <span className="field__req"> (required)</span> : null;
}

const describedBy = (id, help) => (help ? `${id}-help` : undefined);

/** A labelled input (the child, with the same id) and its help text. */
function Labelled({ id, label, required, help, children }) {
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        <Required required={required} />
      </label>
      {children}
      <Help id={`${id}-help`} text={help} />
    </div>
  );
}

/** An <input>; an empty one is undefined (the field is left out), anything else parse(text). */
function InputField({ id, label, value, onChange, help, required, parse, ...attributes }) {
  return (
    <Labelled id={id} label={label} required={required} help={help}>
      <input
        id={id}
        value={value ?? ''}
        aria-describedby={describedBy(id, help)}
        onChange={(e) => onChange(e.target.value === '' ? undefined : parse(e.target.value))}
        {...attributes}
      />
    </Labelled>
  );
}

export function TextField({ placeholder, list, ...field }) {
  return <InputField type="text" parse={String} placeholder={placeholder} list={list} {...field} />;
}

export function NumberField({ min, max, integer, ...field }) {
  return <InputField type="number" parse={Number} min={min} max={max} step={integer ? 1 : 'any'} {...field} />;
}

export function SelectField({ id, label, value, options, onChange, help, required, emptyLabel }) {
  const known = options.some((o) => o.value === value);
  return (
    <Labelled id={id} label={label} required={required} help={help}>
      <select
        id={id}
        value={value ?? ''}
        aria-describedby={describedBy(id, help)}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
      >
        <option value="">{emptyLabel || '—'}</option>
        {value !== undefined && value !== null && !known ? <option value={value}>{`${value} (unknown)`}</option> : null}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label || o.value}
          </option>
        ))}
      </select>
    </Labelled>
  );
}

/** A number and a unit; the node keeps seconds. */
export function DurationField({ id, label, seconds, onChange, help, required }) {
  const [shown, setShown] = useState(() => splitSeconds(seconds));
  // A change from elsewhere (an import, another node) is shown as it is.
  useEffect(() => {
    if (toSeconds(shown.value, shown.unit) !== seconds) setShown(splitSeconds(seconds));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seconds]);
  const update = (value, unit) => {
    setShown({ value, unit });
    onChange(toSeconds(value, unit));
  };
  return (
    <fieldset className="field field--duration">
      <legend>
        {label}
        <Required required={required} />
      </legend>
      <div className="field__row">
        <label htmlFor={`${id}-value`} className="visually-hidden">
          {label}: amount
        </label>
        <input
          id={`${id}-value`}
          type="number"
          min="0"
          step="any"
          value={shown.value}
          aria-describedby={`${id}-help`}
          onChange={(e) => update(e.target.value, shown.unit)}
        />
        <label htmlFor={`${id}-unit`} className="visually-hidden">
          {label}: unit
        </label>
        <select id={`${id}-unit`} value={shown.unit} onChange={(e) => update(shown.value, e.target.value)}>
          {DURATION_UNITS.map((u) => (
            <option key={u.unit} value={u.unit}>
              {u.unit}
            </option>
          ))}
        </select>
      </div>
      <Help id={`${id}-help`} text={seconds === undefined ? help : `${seconds} seconds. ${help || ''}`} />
    </fieldset>
  );
}

/**
 * A JSON value in a text area. The node gets the value only when the text
 * parses; until then the error is shown and the last good value stays.
 * textOrJson: text that does not start like JSON is taken as a string.
 * jsonlogic: a parsed rule is checked by POST /workflow/jsonlogic/validate.
 */
export function JsonField({ id, label, value, onChange, help, required, jsonlogic, textOrJson, rows = 4 }) {
  const show = (v) => (textOrJson && typeof v === 'string' ? v : showJson(v));
  const [text, setText] = useState(() => show(value));
  const [syntax, setSyntax] = useState(null);
  const [check, setCheck] = useState(null); // {state: 'checking'|'ok'|'bad', message}
  const lastSent = useRef(value);
  const seq = useRef(0);

  // A value changed from elsewhere replaces the text.
  useEffect(() => {
    if (JSON.stringify(value) !== JSON.stringify(lastSent.current)) {
      lastSent.current = value;
      setText(show(value));
      setSyntax(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);

  // The coordinator's check of the rule, 300 ms after the typing stops.
  useEffect(() => {
    if (!jsonlogic || syntax || value === undefined) {
      setCheck(null);
      return undefined;
    }
    const mine = ++seq.current;
    setCheck({ state: 'checking', message: 'checking the rule…' });
    const timer = setTimeout(async () => {
      try {
        const r = await post('/workflow/jsonlogic/validate', { rule: value });
        if (mine !== seq.current) return;
        setCheck(r.valid ? { state: 'ok', message: 'a valid JSON Logic rule' } : { state: 'bad', message: r.error });
      } catch (err) {
        if (mine === seq.current) setCheck({ state: 'unknown', message: `not checked: ${err.message}` });
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [jsonlogic, syntax, value]);

  const edit = (t) => {
    setText(t);
    let parsed;
    if (textOrJson && t.trim() !== '' && !/^\s*[[{"]/.test(t)) parsed = { value: t.trim() };
    else parsed = parseJson(t);
    if (parsed.error) {
      setSyntax(parsed.error);
      return;
    }
    setSyntax(null);
    lastSent.current = parsed.value;
    onChange(parsed.value);
  };

  const described = [`${id}-status`, describedBy(id, help)].filter(Boolean).join(' ');
  let statusText = '';
  let statusClass = '';
  if (syntax) {
    statusText = `Not valid JSON: ${syntax}`;
    statusClass = 'bad';
  } else if (check) {
    statusText = check.message;
    statusClass = check.state;
  }
  return (
    <Labelled id={id} label={label} required={required} help={help}>
      <textarea
        id={id}
        className="mono"
        rows={rows}
        spellCheck="false"
        value={text}
        aria-invalid={syntax || (check && check.state === 'bad') ? 'true' : 'false'}
        aria-describedby={described}
        onChange={(e) => edit(e.target.value)}
      />
      <p className={`field__status field__status--${statusClass}`} id={`${id}-status`} aria-live="polite">
        {statusText}
      </p>
    </Labelled>
  );
}

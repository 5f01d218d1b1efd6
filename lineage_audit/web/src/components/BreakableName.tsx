// A long dotted name (a job's `app.command.output`) that wraps after its dots: each dotted part is kept whole
// (an inline block) unless it alone is wider than its column, and then it wraps after an underscore. Table
// columns size to the longest underscore-separated piece, never to single letters.
import { Fragment } from "react";

function Part({ text }: { text: string }) {
  const pieces = text.split(/(?<=_)/);
  return (
    <span className="name-part">
      {pieces.map((piece, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {piece}
        </Fragment>
      ))}
    </span>
  );
}

export function BreakableName({ name }: { name: string }) {
  return (
    <>
      {name.split(/(?<=\.)/).map((part, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          <Part text={part} />
        </Fragment>
      ))}
    </>
  );
}

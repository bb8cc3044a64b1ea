import { parseShape, renderItem, ShapeError } from '../itemView';
import { errorMessage, responseClose, responseOpen, successClose, successOpen } from '../soap';
import { child } from '../xml';
import { fieldTexts, ItemError, RequestFault, resolveItem, type OpContext } from './context';

/** GetItem: one response message per requested id; bad ids fail alone. */
export function getItem(ctx: OpContext): string {
  const op = 'GetItem';
  let shape;
  try {
    shape = parseShape(child(ctx.request, 'ItemShape'));
  } catch (e) {
    if (e instanceof ShapeError) throw new RequestFault(e.code, e.message);
    throw e;
  }
  const ids = child(ctx.request, 'ItemIds')?.children ?? [];
  if (ids.length === 0) throw new RequestFault('ErrorSchemaValidation', 'The request failed schema validation: ItemIds has incomplete content.');
  const out: string[] = [responseOpen(op)];
  for (const idEl of ids) {
    try {
      ctx.throwIfBusy();
      const ref = resolveItem(ctx, idEl);
      ctx.throwIfRefused(() => fieldTexts(ref.item.fields.values()));
      out.push(successOpen(op), '<m:Items>');
      renderItem(ctx.mb, ref, shape, 'get', out);
      out.push('</m:Items>', successClose(op));
    } catch (e) {
      if (!(e instanceof ItemError)) throw e;
      out.push(errorMessage(op, { code: e.code, text: e.message === e.code ? undefined : e.message, messageXml: e.messageXml }, '<m:Items/>'));
    }
  }
  out.push(responseClose(op));
  return out.join('');
}

// What the chosen method would train: exact counts, HF PEFT's line, the memory training it
// costs against the other side (full fine-tuning against a PEFT method), a chart and the tensors.
import { useMemo } from 'react';
import { formatInt, formatMegabytes, formatTrainablePercent, trainableParamsLine } from '../format';
import type { PlanSummary } from '../../src/worker/protocol';
import { trainingMemory } from '../../src/train/memory';
import { memoryReference, methodPlanRows, selectedMethod, useStudio } from '../store';
import ParamChart from './ParamChart';

/** Distillation's counterpart of the budget: teacher vs student size and where the student comes from. */
function StudentPlanPanel({ plan }: { plan: Extract<PlanSummary, { output: 'student' }> | null }) {
  const pending = useStudio((s) => s.planPending);
  const planError = useStudio((s) => s.planError);
  return (
    <section className="panel" aria-busy={pending}>
      <h2>
        Student size {pending && <span className="badge">updating…</span>}
      </h2>
      {planError && <p className="field-error">Cannot plan this configuration: {planError}</p>}
      {!plan && !planError && <p className="muted">Counting parameters…</p>}
      {plan && (
        <>
          <dl className="stats stats-3">
            <div>
              <dt>Teacher parameters</dt>
              <dd>{formatInt(plan.teacherParams)}</dd>
            </div>
            <div>
              <dt>Student parameters</dt>
              <dd>{formatInt(plan.studentParams)}</dd>
            </div>
            <div>
              <dt>Compression</dt>
              <dd>{plan.compression.toFixed(2)}×</dd>
            </div>
          </dl>
          <p className="small">
            The student starts from teacher layers {plan.teacherLayers.join(', ')} (embeddings and final norm copied); every student parameter trains.
          </p>
        </>
      )}
    </section>
  );
}

/** The panel for what the chosen method makes: an adapter's or a full fine-tune's budget, or a student's size. */
export default function PlanPanel() {
  const plan = useStudio((s) => s.plan);
  const output = useStudio((s) => selectedMethod(s)?.output ?? 'adapter');
  if (output === 'student') return <StudentPlanPanel plan={plan?.output === 'student' ? plan : null} />;
  return <BudgetPanel plan={plan?.output === output ? plan : null} />;
}

/**
 * Training memory in float32 before activations (weights, gradients, AdamW's two moments), and
 * the same for the run it is set against: a PEFT method against full fine-tuning, and back.
 */
function MemoryLines({ trainable, total }: { trainable: number; total: number }) {
  const methods = useStudio((s) => s.methods);
  const allPlans = useStudio((s) => s.allPlans);
  const methodForm = useStudio((s) => s.methodForm);
  const methodForms = useStudio((s) => s.methodForms);
  const methodId = useStudio((s) => s.methodId);
  const reference = useMemo(() => {
    const rows = methodPlanRows({ methods, allPlans, methodForm, methodForms, methodId });
    return memoryReference(selectedMethod({ methods, methodId }), methods, rows);
  }, [methods, allPlans, methodForm, methodForms, methodId]);
  const mine = trainingMemory(trainable, total);
  const theirs = reference ? trainingMemory(reference.trainable, reference.total) : null;
  return (
    <>
      <p id="training-memory" className="small">
        Training memory: <strong>{formatMegabytes(mine.totalBytes)}</strong> (float32: weights {formatMegabytes(mine.weightBytes)} + gradients{' '}
        {formatMegabytes(mine.gradientBytes)} + AdamW moments {formatMegabytes(mine.momentBytes)}; activations not counted)
      </p>
      {reference && theirs && (
        <p id="training-memory-versus" className="small">
          {reference.label} at its settings here: {formatMegabytes(theirs.totalBytes)}, {(theirs.totalBytes / mine.totalBytes).toFixed(2)}× this method&apos;s
        </p>
      )}
    </>
  );
}

function BudgetPanel({ plan }: { plan: Extract<PlanSummary, { output: 'adapter' | 'model' }> | null }) {
  const pending = useStudio((s) => s.planPending);
  const planError = useStudio((s) => s.planError);
  const method = useStudio(selectedMethod);
  const hasModel = useStudio((s) => s.model !== null);

  return (
    <section className="panel" aria-busy={pending}>
      <h2>
        Parameter budget {pending && <span className="badge">updating…</span>}
      </h2>
      {planError && <p className="field-error">Cannot plan this configuration: {planError}</p>}
      {!plan && !planError && (
        <p className="muted">{hasModel && method ? 'Counting parameters…' : 'Counts appear once a model and a method are chosen.'}</p>
      )}
      {plan && (
        <>
          <dl className="stats stats-3">
            <div>
              <dt>Trainable parameters</dt>
              <dd>{formatInt(plan.trainable)}</dd>
            </div>
            <div>
              <dt>Total parameters</dt>
              <dd>{formatInt(plan.total)}</dd>
            </div>
            <div>
              <dt>Trainable %</dt>
              <dd>{formatTrainablePercent(plan.trainable, plan.total)}</dd>
            </div>
          </dl>
          <p className="hf-line">
            <code>{trainableParamsLine(plan.trainable, plan.total)}</code>
          </p>
          <MemoryLines trainable={plan.trainable} total={plan.total} />
          <ParamChart trainable={plan.trainable} total={plan.total} />
          {plan.tensors.length > 0 && (
            <details className="tensors">
              <summary>Trainable tensors ({formatInt(plan.tensors.length)})</summary>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Shape</th>
                    <th scope="col" className="num">
                      Parameters
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {plan.tensors.map((t) => (
                    <tr key={t.name}>
                      <td>
                        <code>{t.name}</code>
                      </td>
                      <td>[{t.shape.join(', ')}]</td>
                      <td className="num">{formatInt(t.shape.reduce((a, b) => a * b, 1))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
        </>
      )}
    </section>
  );
}

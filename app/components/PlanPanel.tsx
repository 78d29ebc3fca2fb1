// What the chosen method would train: exact counts, HF PEFT's line, a chart and the tensors.
import { formatInt, formatTrainablePercent, trainableParamsLine } from '../format';
import type { PlanSummary } from '../../src/worker/protocol';
import { selectedMethod, useStudio } from '../store';
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

/** The panel for what the chosen method makes: an adapter's budget, or a student's size. */
export default function PlanPanel() {
  const plan = useStudio((s) => s.plan);
  const output = useStudio((s) => selectedMethod(s)?.output ?? 'adapter');
  if (output === 'student') return <StudentPlanPanel plan={plan?.output === 'student' ? plan : null} />;
  return <BudgetPanel plan={plan?.output === 'adapter' ? plan : null} />;
}

function BudgetPanel({ plan }: { plan: Extract<PlanSummary, { output: 'adapter' }> | null }) {
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

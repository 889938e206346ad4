import type { ProbotOctokit } from 'probot';
import type { CheckRunOutput } from '../core/policy/render-check-run.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { checkRunsAsync } from '../ledger/queries/check-runs.js';
import type { CheckRunPayload } from './check-run-message.js';

/** GitHub accepts at most 50 annotations per request; later updates append to the earlier ones. */
export const ANNOTATIONS_PER_REQUEST = 50;

/** Kept in `github_check_runs` while a create is under way: its id is not known yet. */
const CREATE_ATTEMPTED = 0;

type Annotation = CheckRunOutput['annotations'][number];

/**
 * Creates this app's check run on a commit, or updates the one created before (its id is kept in
 * `github_check_runs`), then sends the remaining annotations 50 at a time.
 */
export async function deliverCheckRun(
  octokit: ProbotOctokit,
  reader: LedgerReader,
  p: CheckRunPayload,
  publicUrl: string | null = null,
): Promise<void> {
  const { annotations, ...output } = p.render.output;
  const batches: Annotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST)
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  const id = await writeCheckRun(octokit, reader, p, firstRequest(p, output, batches[0], publicUrl));
  for (const batch of batches.slice(1)) {
    await octokit.rest.checks.update({
      owner: p.owner,
      repo: p.repo,
      check_run_id: id,
      output: { ...output, annotations: toApi(batch) },
    });
  }
}

/** The check run's first request, the same for a create and an update: its state and first annotations. */
function firstRequest(
  p: CheckRunPayload,
  output: Omit<CheckRunOutput, 'annotations'>,
  annotations: Annotation[] | undefined,
  publicUrl: string | null,
) {
  return {
    owner: p.owner,
    repo: p.repo,
    status: p.render.status,
    ...(p.render.conclusion ? { conclusion: p.render.conclusion } : {}),
    output: { ...output, annotations: toApi(annotations) },
    ...(publicUrl ? { details_url: detailsUrl(publicUrl, p) } : {}),
    // Buttons only while the check waits; an update without any takes earlier ones away.
    actions: p.render.actions ?? [],
  };
}

/** Creates the check run, or updates the one created before; returns its id. */
async function writeCheckRun(
  octokit: ProbotOctokit,
  reader: LedgerReader,
  p: CheckRunPayload,
  body: ReturnType<typeof firstRequest>,
): Promise<number> {
  const repository = `${p.owner}/${p.repo}`;
  const remember = (id: number) => checkRunsAsync.rememberCheckRun(reader, repository, p.headSha, p.name, id);
  let id = (await checkRunsAsync.checkRunId(reader, repository, p.headSha, p.name)) ?? undefined;
  if (id === CREATE_ATTEMPTED) {
    // An earlier attempt may have created it and lost the answer (a crash, a gateway error after the
    // fact): find it before creating a second one on the commit.
    const { data } = await octokit.rest.checks.listForRef({
      owner: p.owner,
      repo: p.repo,
      ref: p.headSha,
      check_name: p.name,
      filter: 'latest',
    });
    id = data.check_runs[0]?.id;
    if (id !== undefined) await remember(id);
  }
  if (id === undefined || id === CREATE_ATTEMPTED) {
    await remember(CREATE_ATTEMPTED);
    const { actions, ...fields } = body;
    const { data } = await octokit.rest.checks.create({
      ...fields,
      ...(actions.length ? { actions } : {}),
      name: p.name,
      head_sha: p.headSha,
    });
    await remember(data.id);
    return data.id;
  }
  await octokit.rest.checks.update({ ...body, check_run_id: id });
  return id;
}

/** Annotations as the Checks API names their fields. */
function toApi(batch: Annotation[] = []) {
  return batch.map((a) => ({
    path: a.path,
    start_line: a.startLine,
    end_line: a.endLine,
    annotation_level: a.level,
    title: a.title,
    message: a.message,
  }));
}

/** The decision page (src/web): of the PR when the payload names it, else of the newest PR at the commit. */
export function detailsUrl(publicUrl: string, p: CheckRunPayload): string {
  const repo = `${encodeURIComponent(p.owner)}/${encodeURIComponent(p.repo)}`;
  return p.number !== undefined
    ? `${publicUrl}/decisions/${repo}/${p.number}`
    : `${publicUrl}/decisions/${repo}/commit/${p.headSha}`;
}

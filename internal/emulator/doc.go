// Package emulator is an in-memory Isahit Lab API that follows the contract, as the repository
// records it in internal/client/CONTRACT.md: form-encoded login answering 201, expiring Bearer
// tokens that may also be revoked at any time, projects, batches and workflows (batches may share
// a workflow, or have none), paginated lists with a server-side cap on `limit`, setup-webhook by
// batch or by workflow with a choice of answers, 403/404 rules, webhook deliveries that record
// lastCall/lastError, and fault injection (latency, rate limit with 429 + Retry-After, 5xx
// answers, dropped connections, token revocation). It is an independent reading of that
// contract: it shares no code with the client. It serves tests in-process (an *Emulator is an
// http.Handler for httptest) and the standalone program in cmd/isahitlab-emulator.
//
// # Ids
//
// Ids are 24 lowercase hex digits "6650c1f2a9b4" + a 12-digit counter shared by projects, batches
// and workflows, starting at 1. AddBatch allocates the batch id, then its workflow's. So the
// default standalone seed (1 project, 3 batches) is always: project ...001; batches ...002,
// ...004, ...006 with workflows ...003, ...005, ...007.
//
// # Choices where the contract is open
//
//   - `pagination` is not required: every list call is paginated (page 1, limit 10 by default),
//     and `limit` is capped at PageCap. A non-integer or < 1 page/limit is 400. totalPages is at
//     least 1; a page past the end has no docs (mongoose-paginate-v2 behaviour).
//   - Filters match exactly, values from repeated keys (`statuses=a&statuses=b`); `ids=a,b` is one
//     id. `search` is a case-insensitive substring of the name.
//   - Setup-webhook: exactly one of workflowId/batchId (else 400); body must be JSON with a `url`
//     key (missing `url` is 400, null removes the webhook); a missing `header` counts as null.
//     Validation (400) comes before lookups (404) and permissions (403). A removed webhook is gone
//     with its history: a later setup starts without lastCall/lastError. Its answer is chosen
//     with SetSetupAnswer: "stored" (default: 200, the stored webhook with updatedAt, null after
//     a removal), "echo" (200, {"url","header"} as sent), "empty" (200, no body), "no-content"
//     (204), "before" (200, the webhook as it was before this call, null when there was none).
//   - Batches without a workflow (AddBatchWithoutWorkflow, seed "no_workflow"): B1/B2 documents
//     have no `workflow` key, setup-webhook by their batchId is 400 (after the 404/403 checks),
//     Deliver returns ErrNoWorkflow, BatchInfo.WorkflowID is "".
//   - Forbid(id) on a project forbids its batches and their workflows; on a batch, it forbids the
//     workflow the batch uses (so a workflow shared with a forbidden batch is forbidden through
//     every batch). B2 of a non-forbidden project still lists forbidden batches; P1 without ids
//     leaves forbidden projects out, and with a forbidden id answers 403.
//   - Faults run in this order: rate limit (decided on arrival), then the added latency, then the
//     429 / dropped / 5xx answer. A dropped request is not processed. Every received request is
//     counted under its endpoint id, whatever the answer.
//   - Faults.RevokeTokensEvery = K revokes every live token when the K-th API request since the
//     last revocation is authorized (that request is still served): each generation of tokens
//     serves exactly K requests in all, and a token may die before its first use. Revocations
//     are counted under "revocations".
//
// # Traits
//
// Deterministic misbehaviours for tests, each changed only by its own setter (traits.go). They
// act inside the handlers, so auth, faults and counting come first.
//
//   - SetListIgnoresFilter: B2 lists every project's batches (creation order, true projectId);
//     projectId is still required, statuses/search and pagination still apply.
//   - SetBatchReadNotFound(id): B1 and W3 by that batch answer 404 as for an unknown batch; B2
//     still lists it, B6, Deliver and its workflow's W1/W2 are normal.
//   - FailSets(workflowId, status): W2/W3 reaching that workflow (removals included) answer
//     status with an error body and change nothing; 0 removes it.
//   - AnswerAppliedSetsWith(workflowId, status, n): the next n W2/W3 reaching that workflow are
//     applied, then answered status (a gateway that timed out after the server acted); used up
//     before FailSets. Requests answered 400/404/403 do not count.
//
// # Admin routes (no auth, no faults, not counted)
//
//	POST   _emulator/deliver        {"batchId","taskId"?,"type"?:"annotation"|"review"} -> 200 webhook JSON; 404 unknown batch; 409 no workflow or no webhook
//	POST   _emulator/batches        {"projectId","name","workflowId"?,"noWorkflow"?:bool} -> 201 {"_id","workflowId"} ("" without a workflow)
//	DELETE _emulator/batches/{id}   -> 200 {"_id"}
//	GET    _emulator/calls          -> Calls() as JSON;  DELETE resets the counters
//	GET    _emulator/stats          -> {"totalCalls","maxInFlight","calls"}
//	GET|PUT _emulator/faults        {"latency":"20ms","rateLimit":500,"failRate":0.1,"dropRate":0.02,"throttleRate":0,"revokeTokensEvery":0}
//	GET|PUT _emulator/settings      {"listOmitsWorkflow"?:bool,"pageCap"?:int,"tokenTTL"?:"1h","setupAnswer"?:"stored"|"echo"|"empty"|"no-content"|"before"}
//	POST   _emulator/forbid         {"id","forbidden"?:bool}  (false lifts it)
//	POST   _emulator/expire-tokens  -> 204; every issued token becomes invalid
//
// # Seed file
//
// The standalone program's -seed-file (ParseSeed, ApplySeed) is JSON, unknown fields refused:
//
//	{
//	  "projects": [
//	    {
//	      "name": "Cats",              // required
//	      "status": "pending",         // optional: configuring|pending|complete|toBeDeleted|deleted|archived
//	      "type": "form",              // optional: form|iat-rectangle|iat-polygon|iat-segmentation|iat-graph|iat-polyline
//	      "forbidden": false,          // optional: API calls touching it get 403
//	      "batches": [                 // optional, created in this order
//	        {"name": "week-1"},
//	        {"name": "week-2", "status": "pending", "same_workflow_as": "week-1", "forbidden": false},
//	        {"name": "draft", "no_workflow": true}   // no workflow; exclusive with same_workflow_as
//	      ],
//	      "batch_count": 100           // optional: then 100 more batches named batch-N
//	    }
//	  ]
//	}
//
// The emulator never logs; it keeps no request headers, so tokens and webhook header values
// appear only in the answers that carry them by contract.
package emulator

/**
 * Output and input binding patterns for the fidelity suite: the durable-functions
 * `backupSiteContent` sample (samples-ts, readdirp replaced by fs.readdir) and one function per
 * storage binding devhost honours. Not product code.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

import { app, type HttpRequest, type HttpResponseInit, input, type InvocationContext, output } from '@azure/functions';
import type { ActivityHandler, OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import * as df from 'durable-functions';

// samples-ts/functions/backupSiteContent.ts
const getFileListActivityName = 'getFileList';
const copyFileToBlobActivityName = 'copyFileToBlob';

const backupSiteContentOrchestration: OrchestrationHandler = function* (context: OrchestrationContext) {
  const rootDir: string = context.df.getInput<string>();
  if (!rootDir) {
    throw new Error('A directory path is required as an input.');
  }
  const rootDirAbs: string = path.resolve(rootDir);
  const files: string[] = yield context.df.callActivity(getFileListActivityName, rootDirAbs);
  const tasks: Task[] = [];
  for (const file of files) {
    const activityInput = {
      backupPath: path.relative(rootDirAbs, file).replace('\\', '/'),
      filePath: file,
    };
    tasks.push(context.df.callActivity(copyFileToBlobActivityName, activityInput));
  }
  const results: number[] = yield context.df.Task.all(tasks);
  const totalBytes: number = results ? results.reduce((prev, curr) => prev + curr, 0) : 0;
  return totalBytes;
};
df.app.orchestration('backupSiteContent', backupSiteContentOrchestration);

const getFileListActivity: ActivityHandler = async function (rootDirectory: string, context: InvocationContext): Promise<string[]> {
  context.log(`Searching for files under '${rootDirectory}'...`);
  const entries = await fs.readdir(rootDirectory, { recursive: true, withFileTypes: true });
  const allFilePaths = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  context.log(`Found ${allFilePaths.length} under ${rootDirectory}.`);
  return allFilePaths;
};
df.app.activity(getFileListActivityName, { handler: getFileListActivity });

const blobOutput = output.storageBlob({
  path: 'backups/{backupPath}',
  connection: 'StorageConnString',
});

const copyFileToBlobActivity: ActivityHandler = async function (
  { backupPath, filePath }: { backupPath: string; filePath: string },
  context: InvocationContext,
): Promise<number> {
  const outputLocation = `backups/${backupPath}`;
  const stats = await fs.stat(filePath);
  context.log(`Copying '${filePath}' to '${outputLocation}'. Total bytes = ${stats.size}.`);
  const fileContents = await fs.readFile(filePath);
  context.extraOutputs.set(blobOutput, fileContents);
  return stats.size;
};
df.app.activity(copyFileToBlobActivityName, { extraOutputs: [blobOutput], handler: copyFileToBlobActivity });

// One function per storage binding, each started over HTTP.
const connection = 'StorageConnString';
const outbox = output.storageQueue({ queueName: 'fidelity-outbox', connection });
const audit = output.table({ tableName: 'fidelityAudit', connection, partitionKey: 'audit' });
const notes = output.cosmosDB({
  connection: 'FidelityCosmos',
  databaseName: 'fidelity',
  containerName: 'notes',
  createIfNotExists: true,
  partitionKey: '/model',
});
const backup = input.storageBlob({ path: 'backups/{name}', connection });

/** POST {id, model, text}: one queue message per element, one table entity, one Cosmos document. */
app.http('recordNote', {
  route: 'notes',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraOutputs: [outbox, audit, notes],
  handler: async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const note = (await request.json()) as { id: string; model: string; text: string };
    context.extraOutputs.set(outbox, [`note ${note.id}`, { id: note.id, model: note.model }]);
    context.extraOutputs.set(audit, { RowKey: note.id, text: note.text });
    context.extraOutputs.set(notes, note);
    return { status: 201 };
  },
});

/** GET backups/{name}: the backed-up blob through a blob input binding (404 when it is not there). */
app.http('readBackup', {
  route: 'backups/{name}',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [backup],
  handler: (_request: HttpRequest, context: InvocationContext): HttpResponseInit => {
    const content = context.extraInputs.get(backup) as Buffer | null;
    return content ? { status: 200, body: content } : { status: 404 };
  },
});

// A yoga plugin that counts GraphQL operations by name, type and outcome, and
// times queries and mutations. Subscriptions are counted when they start
// (outcome error when they could not), not timed: they last as long as their client.
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from './metrics.js';

function operationOf(document: DocumentNode, operationName: string | null | undefined): { name: string | undefined; type: string } {
  const operation = getOperationAST(document, operationName);
  return { name: operation?.name?.value ?? operationName ?? undefined, type: operation?.operation ?? 'unknown' };
}

const failed = (result: unknown) => {
  const errors = (result as { errors?: readonly unknown[] } | undefined)?.errors;
  return Array.isArray(errors) && errors.length > 0;
};

export function useOperationMetrics(metrics: Metrics): Plugin {
  return {
    onExecute: ({ args }) => {
      const { name, type } = operationOf(args.document, args.operationName);
      const labels = { operation_name: metrics.operationLabel(name), operation_type: type };
      const stop = metrics.graphqlDuration.startTimer(labels);
      return {
        onExecuteDone: ({ result }) => {
          stop();
          // An incremental (@defer/@stream) result is an iterator: it started, so it counts as ok.
          const outcome = Symbol.asyncIterator in (result as object) ? 'ok' : failed(result) ? 'error' : 'ok';
          metrics.graphqlOperations.inc({ ...labels, outcome });
        },
      };
    },
    onSubscribe: ({ args }) => {
      const { name, type } = operationOf(args.document, args.operationName);
      const labels = { operation_name: metrics.operationLabel(name), operation_type: type };
      return {
        onSubscribeResult: ({ result }) => {
          const outcome = Symbol.asyncIterator in (result as object) ? 'ok' : failed(result) ? 'error' : 'ok';
          metrics.graphqlOperations.inc({ ...labels, outcome });
        },
        onSubscribeError: () => {
          metrics.graphqlOperations.inc({ ...labels, outcome: 'error' });
        },
      };
    },
  };
}

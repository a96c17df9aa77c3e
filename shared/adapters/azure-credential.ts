import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

import { config } from '../config';

let credential: TokenCredential | undefined;

/** One DefaultAzureCredential per process (managed identity on Azure; AZURE_CLIENT_ID selects a user-assigned one). */
export function azureCredential(): TokenCredential {
  const clientId = config().AZURE_CLIENT_ID;
  credential ??= new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  return credential;
}

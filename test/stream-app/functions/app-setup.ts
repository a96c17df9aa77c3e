import { app } from '@azure/functions';

// Loaded first (entry points load in path order), as the product's functions/app-setup.ts is.
app.setup({ enableHttpStream: true });

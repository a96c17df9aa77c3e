import { app } from '@azure/functions';

// Sorts before the registrations (entry points load in path order), as the product's functions/app-http-streams.ts does.
app.setup({ enableHttpStream: true });

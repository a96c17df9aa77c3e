/** Every HTTP route of the API (the OpenAPI document lists what these modules register). */
import './models';
import './versions';
import './version-files';
import './champion';
import './monitoring';
import './system';
import './runs';
import './score';
import './actuals';
import './retraining';
import './approvals';

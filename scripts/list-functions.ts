// Prints the function names of the stack description, one per line (for shell scripts).
import { functions } from '#stack';

console.log(functions.map((f) => f.name).join('\n'));
